import { defineFrameType } from '../pipeline/frames.ts';

declare module '../pipeline/frames.ts' {
  interface FrameMap {
    /**
     * Hold the bot's audio (system, downstream to the output): nothing more is sent until every hold is
     * released. Audio already queued at the carrier is cleared and will be sent again from the last
     * acknowledged word, so the caller hears the reply resume where it stopped. Holds are named by their
     * owner (`caller-speech`, `early-reply`, `answered-by`…); each owner releases its own.
     */
    'output.pause': { reason: string };
    /** Releases one hold (see `output.pause`); playback continues once no hold is left. */
    'output.resume': { reason: string };
  }
}

defineFrameType('output.pause', { category: 'system' });
defineFrameType('output.resume', { category: 'system' });
