import type { CarrierAdapter, ConfiguredCarrier } from '../carrier-adapter.ts';
import { plivoMediaStream } from './media-serializer.ts';
import { registerPlivoRoutes } from './routes.ts';
import type { PlivoRuntime } from './runtime.ts';
import { PLIVO, plivoEnv, plivoMissingCredentials, plivoSettingsFromEnv, type PlivoSettings } from './settings.ts';

export type { PlivoSettings } from './settings.ts';
export type { PlivoRuntime } from './runtime.ts';

/**
 * Plivo: Voice REST (plivo-node), bidirectional `<Stream>` audio streams on our socket, V3-signed webhooks, and
 * Pipecat's `POST /start` seed route. The SDK loads when the carrier is created, the emulator only in sandbox.
 */
export const plivoCarrier: CarrierAdapter<PlivoSettings, PlivoRuntime> = {
  name: PLIVO,
  displayName: 'Plivo',
  env: plivoEnv,
  settingsFromEnv: plivoSettingsFromEnv,
  missingCredentials: plivoMissingCredentials,
  defaultFrom: (settings) => settings.phoneNumber,
  async create(settings, context) {
    const { PlivoRuntime } = await import('./runtime.ts');
    const { authId, authToken } = settings;
    if (!authId || !authToken) throw new TypeError('Plivo needs authId and authToken');
    return new PlivoRuntime({ ...settings, authId, authToken }, context);
  },
  registerRoutes: registerPlivoRoutes,
  mediaStream: plivoMediaStream,
  sandbox: {
    start: async (context) => (await import('./emulator/sandbox.ts')).startPlivoSandbox(context),
  },
};

/** Plivo with settings given in code: `startSwitchboard({ carriers: [plivo({ authId, authToken, phoneNumber })] })`. */
export function plivo(settings: PlivoSettings): ConfiguredCarrier<PlivoSettings> {
  return { adapter: plivoCarrier, settings };
}
