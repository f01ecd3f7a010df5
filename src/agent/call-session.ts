import type { Logger } from '../log.ts';
import type { SileroInference } from '../audio/vad/silero-model.ts';
import type { PipelineError, TaskOutcome } from '../pipeline/task.ts';
import { PipelineTask } from '../pipeline/task.ts';
import type { FrameProcessor } from '../pipeline/processor.ts';
import type { FrameObserver } from '../pipeline/observer.ts';
import { LlmContext } from '../services/llm/context.ts';
import type { LlmService } from '../services/llm/llm-service.ts';
import type { AgentTool } from '../services/llm/tool.ts';
import type { MediaChannel } from '../transports/media-channel.ts';
import type { MediaTransportOptions } from '../transports/media-transport.ts';
import { MediaTransport } from '../transports/media-transport.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { sendDtmfTool } from './send-dtmf-tool.ts';
import { transferCallTool, type TransferDestination, type TransferOutcome } from './transfer-tool.ts';
import type { AgentDefinition } from './agent-definition.ts';
import { mergeMetadata } from './agent-definition.ts';
import type { AnsweringMachineVerdict } from './answering-machine.ts';
import { AnsweringMachineProcessor } from './answering-machine-processor.ts';
import type { AssistantTurn } from './assistant-turn-recorder.ts';
import { AssistantTurnRecorder } from './assistant-turn-recorder.ts';
import type { AnsweringMachineHandling } from './conversation-controller.ts';
import { ConversationController } from './conversation-controller.ts';
import { endCallTool } from './end-call-tool.ts';
import { LlmProcessor } from './llm-processor.ts';
import type { ToolCallEvent } from './llm-processor.ts';
import { renderTemplate } from './template.ts';
import type { TurnLatency } from './turn-metrics.ts';
import { TurnMetricsObserver } from './turn-metrics.ts';
import type { AnsweredBy } from './frames.ts';
import type { KeypadOptions } from './keypad.ts';
import { makeFrame } from '../pipeline/frames.ts';
import type { UserTurn } from './user-turn-processor.ts';
import { UserTurnProcessor } from './user-turn-processor.ts';
import { VadProcessor } from './vad-processor.ts';

/** Provider stages for one call; the server builds these from configuration. */
export interface CallServices {
  /** A new STT stage for the call. */
  createStt(callId: string): FrameProcessor;
  llm: LlmService;
  /** A new TTS stage for the call, speaking with `voice` (undefined: the service's default). */
  createTts(callId: string, voice: string | undefined): FrameProcessor;
  /** VAD inference shared by calls (a `SileroBatcher` for many calls). @default the shared Silero model */
  vadInference?: SileroInference;
}

export interface CallSessionEvents {
  onUserTurn?(turn: UserTurn): void;
  onAssistantTurn?(turn: AssistantTurn & { latency?: TurnLatency }): void;
  /** Notable moments for the call's event log: barge-in, backchannel, tool calls, why the call ended. */
  onEvent?(type: string, data: Record<string, unknown>): void;
  onBargeInLatency?(ms: number): void;
  onProviderTtfb?(processor: string, ms: number): void;
  onError?(error: PipelineError): void;
}

export interface CallSessionOptions {
  callId: string;
  agent: AgentDefinition;
  /** The call's custom data (templated into prompt and greeting, given to tools). @default {} */
  metadata?: Record<string, unknown>;
  /** Decides who speaks first when the agent says `auto`. */
  direction: 'inbound' | 'outbound';
  channel: MediaChannel;
  services: CallServices;
  log?: Logger;
  transport?: MediaTransportOptions;
  events?: CallSessionEvents;
  /** Extra observers (e.g. debugging). @default [] */
  observers?: FrameObserver[];
  /** Time for the call's pipeline (turn-taking, conversation, answering machine, output). @default systemClock */
  clock?: Clock;
  /** What the server does for the agent's built-in call-control tools (`transfer_call`). @default none */
  actions?: CallActions;
}

/** Call control the server provides to a session's built-in tools. */
export interface CallActions {
  /** Move the call to `destination` through the carrier; on success the session is ended by the server. */
  transfer?(destination: TransferDestination): Promise<TransferOutcome>;
}

/** Longest wait for the bot's line before a transfer goes ahead anyway. */
const BOT_SILENT_MAX_MS = 15_000;

/** The default voicemail message (see {@link AgentDefinition.voicemail}). */
export const DEFAULT_VOICEMAIL_MESSAGE = 'Hello, sorry we missed you. Please call us back when you can. Goodbye!';

/**
 * One call's voice agent: builds the pipeline
 * `input → VAD → STT → user turns → conversation → LLM → TTS → output → assistant turns`
 * around a media channel, and reports turns, latency and events as they happen.
 */
export class CallSession {
  readonly callId: string;
  readonly context: LlmContext;
  readonly transport: MediaTransport;
  readonly task: PipelineTask;
  readonly metadata: Record<string, unknown>;
  /** Why the agent ended the call, if it did (end_call, idle, time limit, voicemail). */
  endReason: string | undefined;
  /** Who answered (outbound calls with answering-machine detection), how and when it was decided. */
  answeredBy: (AnsweringMachineVerdict & { decidedAfterMs: number }) | undefined;
  private readonly answeringMachine: AnsweringMachineProcessor | undefined;
  private readonly turns: UserTurnProcessor;
  private readonly clock: Clock;
  private readonly actions: CallActions;
  private turnRecorder!: AssistantTurnRecorder;

  constructor(options: CallSessionOptions) {
    const { agent, callId, services } = options;
    const events = options.events ?? {};
    this.callId = callId;
    this.clock = options.clock ?? systemClock;
    this.actions = options.actions ?? {};
    this.metadata = mergeMetadata(agent.defaultMetadata ?? {}, options.metadata ?? {});
    const missing: string[] = [];
    const system = renderTemplate(agent.systemPrompt, this.metadata, missing);
    const greeting =
      typeof agent.greeting === 'string' && agent.greeting.trim().toLowerCase() !== 'none'
        ? renderTemplate(agent.greeting, this.metadata, missing)
        : undefined;
    const voicemail = agent.voicemail;
    const detectMachines = options.direction === 'outbound' && voicemail !== undefined && voicemail.detect !== false;
    const machineHandling: AnsweringMachineHandling | undefined = detectMachines
      ? {
          action: voicemail.action ?? 'leave-message',
          message: renderTemplate(voicemail.message ?? DEFAULT_VOICEMAIL_MESSAGE, this.metadata, missing),
        }
      : undefined;
    if (missing.length > 0) {
      options.log?.warn({ callId, missing: [...new Set(missing)] }, 'agent template values missing from call metadata');
    }
    this.context = new LlmContext({ system, tools: this.buildTools(agent) });

    const metrics = new TurnMetricsObserver({
      onTurnLatency: (utteranceId, latency) => latencies.set(utteranceId, latency),
      ...(events.onBargeInLatency ? { onBargeInLatency: (ms: number) => events.onBargeInLatency?.(ms) } : {}),
      ...(events.onProviderTtfb ? { onProviderTtfb: (p: string, ms: number) => events.onProviderTtfb?.(p, ms) } : {}),
    });
    const latencies = new Map<string, TurnLatency>();

    this.transport = new MediaTransport(options.channel, options.transport);
    const firstSpeaker =
      agent.firstSpeaker === 'bot' || agent.firstSpeaker === 'caller'
        ? agent.firstSpeaker
        : options.direction === 'inbound'
          ? 'bot'
          : 'caller';
    const clock = options.clock;
    const startedAt = clock?.now() ?? performance.now();
    this.answeringMachine = detectMachines
      ? new AnsweringMachineProcessor({
          ...(agent.turns?.language ? { language: agent.turns.language } : {}),
          ...(voicemail?.maxWaitForBeepSecs !== undefined ? { maxWaitForBeepSecs: voicemail.maxWaitForBeepSecs } : {}),
          onVerdict: (verdict) => {
            this.answeredBy = { ...verdict, decidedAfterMs: Math.round(verdict.atMs - startedAt) };
            events.onEvent?.('answered-by', {
              answeredBy: verdict.answeredBy,
              how: verdict.how,
              decidedAfterMs: Math.round(verdict.atMs - startedAt),
              ...(verdict.evidence ? { evidence: verdict.evidence } : {}),
            });
          },
          onReady: (info) => events.onEvent?.('voicemail.ready', { reason: info.reason, afterMs: Math.round(info.atMs - startedAt) }),
        })
      : undefined;
    this.turns = new UserTurnProcessor(this.context, agent.turns, {
      onUserTurn: (turn) => {
        events.onUserTurn?.(turn);
        if (turn.source === 'speech') events.onEvent?.('turn.early-reply', { used: turn.earlyReply === 'used', text: turn.text });
      },
      onFalseInterruption: (info) =>
        events.onEvent?.(info.kind === 'backchannel' ? 'backchannel' : 'false-interruption', {
          ...(info.text ? { text: info.text } : {}),
          durationSec: Math.round(info.durationSec * 1000) / 1000,
          pausedMs: Math.round(info.pausedMs),
          ...(info.utteranceId ? { utteranceId: info.utteranceId } : {}),
        }),
      onBargeIn: (info) => {
        metrics.noteBargeIn(info.onsetMs);
        events.onEvent?.('barge-in', {
          decisionMs: Math.round(info.decidedAtMs - info.onsetMs),
          detectedMs: Math.round(info.detectedAtMs - info.onsetMs),
          voicedMs: Math.round(info.voicedMs),
          reason: info.reason,
          ...(info.words ? { words: info.words } : {}),
        });
      },
      onCommit: (info) => events.onEvent?.('turn.committed', { ...info }),
      onEarlyReplyDiscarded: (info) => events.onEvent?.('early-reply.discarded', { text: info.text }),
      onEmptyTurn: (info) => events.onEvent?.('turn.empty', { voicedMs: Math.round(info.voicedMs) }),
    });
    const processors: FrameProcessor[] = [
      this.transport.input(),
      new VadProcessor({
        ...(agent.vad ? { params: agent.vad } : {}),
        ...(services.vadInference ? { inference: services.vadInference } : {}),
      }),
      services.createStt(callId),
      ...(this.answeringMachine ? [this.answeringMachine] : []),
      this.turns,
      new ConversationController(this.context, {
        firstSpeaker,
        ...(greeting !== undefined ? { greeting } : {}),
        ...(machineHandling ? { answeringMachine: machineHandling } : {}),
        ...(agent.callerFirstTimeoutSecs !== undefined ? { callerFirstTimeoutSecs: agent.callerFirstTimeoutSecs } : {}),
        ...(agent.idle ? { idle: agent.idle } : {}),
        ...(agent.maxDurationSecs !== undefined ? { maxDurationSecs: agent.maxDurationSecs } : {}),
        onEnding: (reason) => {
          this.endReason = reason;
          events.onEvent?.('agent.ending', { reason });
        },
      }),
      new LlmProcessor({
        service: services.llm,
        metadata: this.metadata,
        ...(agent.maxToolSteps !== undefined ? { maxToolSteps: agent.maxToolSteps } : {}),
        ...(agent.fallbackLine !== undefined ? { fallbackLine: agent.fallbackLine } : {}),
        onToolCall: (call: ToolCallEvent) => {
          if (call.toolName === 'end_call' && call.error === undefined) {
            const reason = (call.args as { reason?: unknown } | undefined)?.reason;
            this.endReason = typeof reason === 'string' ? reason : 'end_call';
          }
          events.onEvent?.('tool.call', { ...call });
        },
      }),
      services.createTts(callId, agent.voice),
      this.transport.output(),
      (this.turnRecorder = new AssistantTurnRecorder(
        this.context,
        (turn) => {
          const latency = latencies.get(turn.utteranceId);
          latencies.delete(turn.utteranceId);
          events.onAssistantTurn?.(latency ? { ...turn, latency } : turn);
        },
        (dropped) => {
          latencies.delete(dropped.utteranceId);
          events.onEvent?.('reply.discarded', { utteranceId: dropped.utteranceId, text: dropped.text });
        },
      )),
    ];
    this.task = new PipelineTask(processors, {
      callId,
      ...(clock ? { clock } : {}),
      ...(options.log ? { log: options.log } : {}),
      observers: [metrics, ...(options.observers ?? [])],
      ...(events.onError ? { onError: (error: PipelineError) => events.onError?.(error) } : {}),
    });
  }

  /** Runs the call until it ends; resolves with how it ended. */
  run(): Promise<TaskOutcome> {
    return this.task.run();
  }

  /** Ends after what is queued has been said. */
  end(reason: string): void {
    this.task.end(reason);
  }

  /** Stops at once (the caller hung up, the server is shutting down). */
  cancel(reason: string): void {
    this.task.cancel(reason);
  }

  /** How the next keypad answer ends (a question that asks for digits); the agent's settings apply again after it. */
  expectKeypad(options: KeypadOptions): void {
    this.task.queueFrame(
      makeFrame('keypad.expect', {
        ...(options.maxDigits !== undefined ? { maxDigits: options.maxDigits } : {}),
        ...(options.terminator !== undefined ? { terminator: options.terminator } : {}),
        ...(options.timeoutSecs !== undefined ? { timeoutSecs: options.timeoutSecs } : {}),
      }),
    );
  }

  /** The carrier's own machine detection answered (outbound calls with detection on); in-band detection goes on. */
  carrierAnsweredBy(answeredBy: AnsweredBy, evidence?: string): void {
    this.answeringMachine?.carrierVerdict(answeredBy, evidence);
  }

  /** Resolves once everything the bot has to say has played (or after {@link BOT_SILENT_MAX_MS}). */
  whenBotSilent(): Promise<void> {
    const deadline = this.clock.now() + BOT_SILENT_MAX_MS;
    let over = false;
    void this.task.done.then(() => (over = true));
    return new Promise((resolve) => {
      const check = () => {
        const silent = this.transport.output().idle && !this.turnRecorder.speaking;
        if (silent || over || this.clock.now() >= deadline) resolve();
        else this.clock.setTimeout(check, 100);
      };
      this.clock.setTimeout(check, 100);
    });
  }

  private buildTools(agent: AgentDefinition): AgentTool[] {
    const own = typeof agent.tools === 'function' ? agent.tools(this.metadata) : (agent.tools ?? []);
    const tools = [...own];
    const transfer = this.actions.transfer?.bind(this.actions);
    if (agent.transfer && transfer && !tools.some((t) => t.name === 'transfer_call')) {
      tools.push(transferCallTool(agent.transfer, { botSilent: () => this.whenBotSilent(), transfer }));
    }
    if (agent.sendDtmf && !tools.some((t) => t.name === 'send_dtmf')) {
      tools.push(sendDtmfTool((digits) => this.task.queueFrame(makeFrame('dtmf.out', { digits }))));
    }
    if (agent.endCall === false || tools.some((t) => t.name === 'end_call')) return tools;
    return [...tools, endCallTool()];
  }
}
