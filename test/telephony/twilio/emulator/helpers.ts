import type twilio from 'twilio';
import { toneCalleeVoice } from '../../../../src/sandbox/callees/callee-voice.ts';
import { SpeechRegistry } from '../../../../src/sandbox/speech-registry.ts';
import {
  startTwilioEmulator,
  twilioClientFor,
  type TwilioEmulator,
  type TwilioEmulatorOptions,
} from '../../../../src/telephony/twilio/emulator/index.ts';
import { startFakeAgentServer, type FakeAgentServer } from '../../../sandbox/carriers/fake-agent-server.ts';

export interface TwilioRig {
  emulator: TwilioEmulator;
  agent: FakeAgentServer;
  client: twilio.Twilio;
  close(): Promise<void>;
}

/** An emulator (fast ringing, tone voices, private speech registry) + a fake agent server + the official SDK. */
export async function startTwilioRig(options: TwilioEmulatorOptions = {}): Promise<TwilioRig> {
  const agent = await startFakeAgentServer();
  const emulator = await startTwilioEmulator({
    timeScale: 0.02,
    voice: toneCalleeVoice(),
    speech: new SpeechRegistry(),
    ...options,
  });
  return {
    emulator,
    agent,
    client: twilioClientFor(emulator),
    close: async () => {
      await emulator.close();
      await agent.close();
    },
  };
}

/** TwiML connecting a two-way stream to the fake agent's `/media` (with a query string Twilio must drop). */
export function connectTwiml(agent: FakeAgentServer, after = ''): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>' +
    `<Stream url="${agent.wsUrl}/media?token=abc"><Parameter name="call_id" value="c_42"/><Parameter name="from_number" value="+15550009999"/></Stream>` +
    `</Connect>${after}</Response>`
  );
}

/** base64 μ-law of `ms` milliseconds of a loud constant signal (the bot's "speech"). */
export function botAudio(ms: number): string {
  return Buffer.alloc(ms * 8, 0x20).toString('base64');
}
