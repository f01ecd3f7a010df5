import type plivo from 'plivo';
import { toneCalleeVoice } from '../../../../src/sandbox/callees/callee-voice.ts';
import {
  plivoClientFor,
  startPlivoEmulator,
  type PlivoEmulator,
  type PlivoEmulatorOptions,
} from '../../../../src/telephony/plivo/emulator/index.ts';
import { SpeechRegistry } from '../../../../src/sandbox/speech-registry.ts';
import { startFakeAgentServer, type FakeAgentServer } from '../../../sandbox/carriers/fake-agent-server.ts';

export interface PlivoRig {
  emulator: PlivoEmulator;
  agent: FakeAgentServer;
  client: plivo.Client;
  close(): Promise<void>;
}

export async function startPlivoRig(options: PlivoEmulatorOptions = {}): Promise<PlivoRig> {
  const agent = await startFakeAgentServer();
  const emulator = await startPlivoEmulator({ timeScale: 0.02, voice: toneCalleeVoice(), speech: new SpeechRegistry(), ...options });
  const { client, restore } = plivoClientFor(emulator);
  return {
    emulator,
    agent,
    client,
    close: async () => {
      restore();
      await emulator.close();
      await agent.close();
    },
  };
}

export function streamXml(
  agent: FakeAgentServer,
  attributes = 'bidirectional="true" keepCallAlive="true" contentType="audio/x-mulaw;rate=8000"',
  after = '',
): string {
  return `<Response><Stream ${attributes} extraHeaders="callId=c123,agent=bot1">${agent.wsUrl}/media?call=c123</Stream>${after}</Response>`;
}

/** base64 of `ms` of loud μ-law. */
export function botMulaw(ms: number): string {
  return Buffer.alloc(ms * 8, 0x20).toString('base64');
}
