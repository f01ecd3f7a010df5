import { SwitchboardError } from '../errors.ts';
import type { LlmService } from '../services/llm/llm-service.ts';

/**
 * The system prompt of the handover summary (warm transfer): the model reads the conversation so far and writes
 * what the bot says to the person taking over, before the caller is put through. Sandbox LLM emulators recognise
 * this exact prompt and answer with a summary made from the transcript.
 */
export const HANDOVER_SUMMARY_PROMPT =
  'You are briefing a colleague who is about to take over a phone call from you. From the transcript, say in two ' +
  'or three short spoken sentences who is calling and what they need. Plain speech: no lists, no markdown. ' +
  'Start with "Hi, I have a caller for you."';

/** Longest wait for the summary. @default 10000 */
export const DEFAULT_SUMMARY_TIMEOUT_MS = 10_000;

export interface TranscriptLine {
  role: 'caller' | 'agent';
  text: string;
}

export class HandoverSummaryError extends SwitchboardError {
  constructor(message: string, options: { callId: string; cause?: unknown }) {
    super(message, { code: 'handover_summary_failed', callId: options.callId, cause: options.cause });
  }
}

/** The transcript as the summary's one user message: `Caller: …` / `Agent: …` lines, plus why the caller is moved. */
export function transcriptMessage(lines: readonly TranscriptLine[], reason?: string): string {
  const body = lines
    .filter((line) => line.text.trim() !== '')
    .map((line) => `${line.role === 'caller' ? 'Caller' : 'Agent'}: ${line.text.trim()}`)
    .join('\n');
  return `Transcript:\n${body || '(nothing said yet)'}${reason ? `\nReason for the transfer: ${reason}` : ''}`;
}

/**
 * Asks the LLM for the handover summary of a call (one generation, no tools). Throws {@link HandoverSummaryError}
 * when the model fails, says nothing, or takes longer than `timeoutMs`.
 */
export async function handoverSummary(
  llm: LlmService,
  options: { callId: string; transcript: readonly TranscriptLine[]; reason?: string; timeoutMs?: number },
): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? DEFAULT_SUMMARY_TIMEOUT_MS);
  let text = '';
  try {
    for await (const event of llm.stream({
      callId: options.callId,
      system: HANDOVER_SUMMARY_PROMPT,
      messages: [{ role: 'user', content: transcriptMessage(options.transcript, options.reason) }],
      tools: [],
      signal: controller.signal,
    })) {
      if (event.type === 'text') text += event.text;
    }
  } catch (error) {
    throw new HandoverSummaryError(`handover summary failed: ${error instanceof Error ? error.message : String(error)}`, {
      callId: options.callId,
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
  if (controller.signal.aborted) throw new HandoverSummaryError('handover summary timed out', { callId: options.callId });
  const summary = text.replace(/\s+/g, ' ').trim();
  if (summary === '') throw new HandoverSummaryError('the model gave no handover summary', { callId: options.callId });
  return summary;
}
