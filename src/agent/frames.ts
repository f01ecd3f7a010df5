import type { LlmContext } from '../services/llm/context.ts';
import { defineFrameType } from '../pipeline/frames.ts';

declare module '../pipeline/frames.ts' {
  interface FrameMap {
    /** Run the LLM on the call's context (a user turn ended, or the agent wants a reply). */
    'llm.run': { context: LlmContext; reason: string };
  }
}

defineFrameType('llm.run', { category: 'data' });
