/**
 * STT_PROVIDER=openai end to end: the same Twilio reference call, transcribed by the OpenAI Realtime
 * transcription client against its sandbox emulator instead of Deepgram.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import { postJson, startTestServer, waitForCallEnd } from './helpers.ts';

let server: RunningSwitchboard;

beforeAll(async () => {
  server = await startTestServer({ STT_PROVIDER: 'openai' });
});

afterAll(async () => {
  await server?.close();
});

describe('STT_PROVIDER=openai', () => {
  it('a Twilio call completes with every caller line transcribed by gpt-4o-transcribe', { timeout: 120_000 }, async () => {
    expect(server.sandbox?.emulated).toContain('openai-realtime');
    expect(server.sandbox?.emulated).not.toContain('deepgram');
    const placed = await postJson(`${server.url}/dialout`, { to_number: '+15550100001', from_number: '+15550100000' });
    expect(placed.status).toBe(200);
    const record = await waitForCallEnd(server.url, placed.json.id as string);
    expect(record.status).toBe('completed');
    expect(record.turns.filter((t) => t.role === 'user').map((t) => t.text)).toEqual([
      'Hello?',
      "Yes, I'll be there.",
      "No, that's all. Thanks!",
    ]);
    const replies = record.turns.filter((t) => t.role === 'assistant');
    // The confirmation is answered in two utterances: the acknowledgement said with the tool call, then the result.
    expect(replies.length).toBe(4);
    const timed = replies.filter((t) => t.latency);
    expect(timed.length).toBe(3);
    for (const turn of timed) expect((turn.latency as { voiceToVoiceMs: number } | undefined)?.voiceToVoiceMs).toBeGreaterThan(0);
    expect(record.events.some((e) => e.type === 'tool.call')).toBe(true);
  });
});
