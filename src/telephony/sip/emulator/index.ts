export { SipCalleeEmulator, startSipCalleeEmulator, type EmulatedSipCall, type SipCalleeEmulatorOptions } from './sip-callee-emulator.ts';
