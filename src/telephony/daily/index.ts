import type { CarrierAdapter, ConfiguredCarrier } from '../carrier-adapter.ts';
import { registerDailyRoutes } from './routes.ts';
import type { DailyRuntime } from './runtime.ts';
import { DAILY, dailyEnv, dailyMissingCredentials, dailySettingsFromEnv, type DailySettings } from './settings.ts';

export type { DailySettings } from './settings.ts';
export type { DailyRuntime } from './runtime.ts';

/**
 * Daily: PSTN/SIP dial-in and dial-out through Daily rooms, with the bot's audio on a SIP leg into the room (no
 * Node media SDK for Daily exists). REST client, signed webhooks, Pipecat Cloud's start body; the emulator only in
 * sandbox.
 */
export const dailyCarrier: CarrierAdapter<DailySettings, DailyRuntime> = {
  name: DAILY,
  displayName: 'Daily',
  env: dailyEnv,
  settingsFromEnv: dailySettingsFromEnv,
  missingCredentials: dailyMissingCredentials,
  defaultFrom: (settings) => settings.phoneNumber ?? 'daily',
  async create(settings, context) {
    const { DailyRuntime } = await import('./runtime.ts');
    const { apiKey } = settings;
    if (!apiKey) throw new TypeError('Daily needs apiKey');
    return new DailyRuntime({ ...settings, apiKey }, context);
  },
  registerRoutes: registerDailyRoutes,
  sandbox: {
    start: async (context) => (await import('./emulator/sandbox.ts')).startDailySandbox(context),
  },
};

/** Daily with settings given in code: `startSwitchboard({ carriers: [daily({ apiKey, pinlessHmac })] })`. */
export function daily(settings: DailySettings): ConfiguredCarrier<DailySettings> {
  return { adapter: dailyCarrier, settings };
}
