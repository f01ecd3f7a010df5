import { defineConfig } from 'vitest/config';

/**
 * Unit tests: fast, no real-time audio, no wall-clock bounds (time-driven code takes a `ManualClock`); they may use
 * loopback sockets and in-memory stores. Everything else — calls in real time through emulators, external peers
 * (eSpeak, sox, baresip, sipp, Chromium), processes — is end-to-end. A new test file is end-to-end unless it is
 * listed here.
 */
const unitTests = [
  'test/util/**/*.test.ts',
  'test/pipeline/**/*.test.ts',
  'test/config.test.ts',
  'test/agent/turn-metrics.test.ts',
  'test/audio/g711.test.ts',
  'test/audio/resampler.test.ts',
  'test/audio/wav.test.ts',
  'test/audio/dtmf.test.ts',
  'test/audio/volume.test.ts',
  'test/audio/vad/*.test.ts',
  'test/bench/rss-fit.test.ts',
  'test/store/call-store.test.ts',
  'test/store/list.test.ts',
  'test/store/status.test.ts',
  'test/store/change-feed.test.ts',
  'test/transports/media-clock.test.ts',
  'test/transports/detect-media-stream.test.ts',
  'test/transports/stream-format.test.ts',
  'test/transports/media-watchdog.test.ts',
  'test/fuzz/media-parsers.fuzz.test.ts',
  'test/telephony/media-token.test.ts',
  'test/telephony/*/answer-markup.test.ts',
  'test/telephony/*/media-serializer.test.ts',
  'test/telephony/*/status-callback.test.ts',
  'test/telephony/*/webhook-signature.test.ts',
  'test/telephony/daily/dial-events.test.ts',
  'test/telephony/*/emulator/signature.test.ts',
  'test/telephony/twilio/emulator/conference.test.ts',
  'test/server/calls/*.test.ts',
  'test/server/routes/*.test.ts',
  'test/server/record-writer.test.ts',
  'test/recording/call-recorder.test.ts',
  'test/server/partial-credentials.test.ts',
  'test/server/provider-status.test.ts',
  'test/server/hostile/web-input.test.ts',
  'test/agent/assistant-turn-recorder.test.ts',
  'test/agent/user-turn-processor.test.ts',
  'test/agent/conversation-controller.test.ts',
  'test/agent/answering-machine.test.ts',
  'test/agent/turn-language.test.ts',
  'test/transports/transport-pause.test.ts',
  'test/transports/transport-input.test.ts',
  'test/transports/rtp/rtp-early-audio.test.ts',
  'test/transports/rtp/rtp-trusted-sources.test.ts',
  'test/cli/eval-scorecard.test.ts',
  'test/sandbox/providers/llm-policy.test.ts',
  'test/sandbox/agent-policies.test.ts',
  'test/sandbox/carriers/shared/xml.test.ts',
  'test/sandbox/carriers/shared/playout-buffer.test.ts',
  'test/sandbox/callees/persona-registry.test.ts',
  'test/services/llm/tool-set.test.ts',
  'test/services/llm/sse-client.test.ts',
  'test/services/llm/tool-schema.test.ts',
  'test/services/llm/gemini-retry-info.test.ts',
  'test/services/stt/replay-buffer.test.ts',
  'test/services/tts/normalize.test.ts',
  'test/services/tts/sentence-aggregator.test.ts',
];

export default defineConfig({
  // `import … from 'switchboard'` (examples, package tests) resolves to the TypeScript source, not dist/.
  resolve: { conditions: ['switchboard-source'] },
  ssr: { resolve: { conditions: ['switchboard-source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real-time audio tests measure wall-clock behaviour; two cores cannot run many of them at once.
    maxWorkers: 2,
    // Concurrent end-to-end calls in one file are mostly waiting on real-time audio.
    maxConcurrency: 10,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: unitTests } },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.test.ts'], exclude: unitTests } },
    ],
  },
});
