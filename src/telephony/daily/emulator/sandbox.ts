import type { CarrierEmulatorContext, StartedCarrierEmulator } from '../../carrier-adapter.ts';
import type { DailySettings } from '../settings.ts';
import { startDailyEmulator } from './emulator.ts';

/** Starts the Daily emulator for sandbox mode and points Daily's settings at it (bot legs on loopback, any free port). */
export async function startDailySandbox(context: CarrierEmulatorContext<DailySettings>): Promise<StartedCarrierEmulator<DailySettings>> {
  const daily = await startDailyEmulator({
    personas: context.personas,
    clock: context.clock,
    logger: context.log,
    timeScale: context.timeScale,
  });
  context.log.info(
    { url: daily.url, sipHost: daily.sipHost },
    'Daily emulator: POST /v1/sandbox/dialin {From, room_creation_api} rings our /daily/dialin',
  );
  return {
    settings: {
      ...context.settings,
      apiKey: daily.apiKey,
      apiUrl: daily.url,
      pinlessHmac: daily.pinlessHmac,
      phoneNumber: context.settings.phoneNumber ?? context.callerId,
      sipPort: 0,
      sipBindAddress: '127.0.0.1',
      rtpPortMin: 0,
      rtpPortMax: 0,
      registerWebhook: true,
    },
    emulator: daily,
    close: () => daily.close(),
  };
}
