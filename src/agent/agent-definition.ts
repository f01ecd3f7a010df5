import type { VadParams } from '../audio/vad/vad-analyzer.ts';
import type { AgentTool } from '../services/llm/tool.ts';
import type { IdleOptions } from './conversation-controller.ts';
import type { TransferOptions } from './transfer-tool.ts';
import type { UserTurnOptions } from './user-turn-processor.ts';

/** Answering machines on outbound calls. */
export interface VoicemailOptions {
  /** Detect answering machines (in-band: greeting words, long opening speech, beeps). @default true */
  detect?: boolean;
  /** On a machine: wait for the beep, say `message` once and hang up; or hang up at once. @default 'leave-message' */
  action?: 'leave-message' | 'hang-up';
  /** The message, a template over the call's metadata. @default "Hello, sorry we missed you. Please call us back when you can. Goodbye!" */
  message?: string;
  /** With no beep, start the message once the greeting has been quiet this long. @default 2 */
  maxWaitForBeepSecs?: number;
}

/**
 * What an agent is, independent of carrier and providers: it runs unchanged on Twilio, Plivo or a local
 * channel. Prompt and greeting are templates over the call's metadata (`{{user.firstName}}`,
 * `{{user.firstName|there}}` with a fallback).
 */
export interface AgentDefinition {
  name: string;
  systemPrompt: string;
  /**
   * The bot's first line on every call: spoken at once when the bot opens (inbound), and right after the
   * callee's first words when they speak first (outbound). `'none'`, `null` or absent: the LLM writes the
   * first line instead.
   */
  greeting?: string | null;
  /** TTS voice (provider-specific id or name). @default the TTS service's default voice */
  voice?: string;
  /** LLM model of the configured provider (e.g. `gpt-4o`), for this agent only. @default the configured model */
  model?: string;
  /** Tools, or a function building them from the call's metadata. `end_call` is added unless `endCall` is false. */
  tools?: AgentTool[] | ((metadata: Record<string, unknown>) => AgentTool[]);
  /** Add the built-in `end_call` tool. @default true */
  endCall?: boolean;
  /**
   * Who speaks first. `auto`: the bot on inbound and dial-in calls; the callee on outbound calls (the bot
   * waits for "Hello?", see `callerFirstTimeoutSecs`). @default 'auto'
   */
  firstSpeaker?: 'auto' | 'bot' | 'caller';
  /** Outbound: if the callee says nothing for this long, the bot opens anyway. @default 4 */
  callerFirstTimeoutSecs?: number;
  /** Barge-in, backchannel, turn-end, early-reply and keypad settings (defaults on {@link UserTurnOptions}). */
  turns?: UserTurnOptions;
  /** Answering machines on outbound calls; absent: no detection. */
  voicemail?: VoicemailOptions;
  /** VAD parameters (defaults: confidence 0.7, startSecs 0.2, stopSecs 0.8, minVolume 0.6). */
  vad?: Partial<VadParams>;
  /** Silent-caller handling (defaults on {@link IdleOptions}). */
  idle?: IdleOptions;
  /** Hard limit on the call. @default 600 */
  maxDurationSecs?: number;
  /** Spoken when the LLM fails. @default "I'm sorry, I'm having trouble right now. Could you say that again?" */
  fallbackLine?: string;
  /** Tool-call rounds per reply. @default 3 */
  maxToolSteps?: number;
  /** Metadata used where the call's own metadata has no value (deep-merged under it). @default {} */
  defaultMetadata?: Record<string, unknown>;
  /**
   * Record calls (stereo WAV, caller left, bot right; see the README's Recordings). `true`, or an object with an
   * `announcement` line the bot says first on every recorded call. A call's own `record` (`POST /calls`) wins.
   * @default false
   */
  record?: boolean | RecordOptions;
  /**
   * Hand calls to people: adds the built-in `transfer_call` tool with these destinations (numbers or SIP URIs,
   * each with a description the model sees). @default none (no transfer tool)
   */
  transfer?: TransferOptions;
  /**
   * Keypad out: adds the built-in `send_dtmf` tool, so the model can press keys (IVR menus). Carrier media streams
   * hear them as generated DTMF tones; SIP sends RFC 4733 events. @default false
   */
  sendDtmf?: boolean;
  /** How the sandbox's scripted LLM plays this agent; used only when the LLM is emulated. */
  sandbox?: AgentSandboxOptions;
}

export interface RecordOptions {
  /** Said before anything else on a recorded call (e.g. "This call is recorded."). @default none */
  announcement?: string;
}

export interface AgentSandboxOptions {
  /**
   * The agent's script in the sandbox policy language (`switchboard/sandbox`'s `LlmPolicyInput`), inline or as the
   * path of a JSON file (e.g. `new URL('./reminder.policy.json', import.meta.url)`).
   * @default a generic script: the agent's greeting, its tools when the caller names them, goodbye with end_call
   */
  policy?: object | string | URL;
}

/** Identity helper that gives agent definitions their type. */
export function defineAgent(agent: AgentDefinition): AgentDefinition {
  return agent;
}

/** Deep-merges `overrides` onto `base` (objects merge, anything else replaces). */
export function mergeMetadata(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const prior = out[key];
    out[key] = isPlainObject(prior) && isPlainObject(value) ? mergeMetadata(prior, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
