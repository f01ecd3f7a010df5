export { DailyEmulator, startDailyEmulator, type DailyEmulatorOptions, type HeldCaller, type PlaceDialInOptions } from './emulator.ts';
