import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AgentDefinition } from '../agent/agent-definition.ts';
import type { Config } from '../config.ts';
import { ConfigError, loadConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { createLogger } from '../log.ts';
import type { PersonaRegistry } from '../sandbox/callees/persona-registry.ts';
import type { Sandbox, SandboxOptions } from '../sandbox/sandbox.ts';
import { CallStore } from '../store/index.ts';
import { carrierConfigured, type CallControl, type CarrierAdapter, type ConfiguredCarrier } from '../telephony/carrier-adapter.ts';
import { publicUrlsFrom } from '../telephony/public-urls.ts';
import { builtinCarriers } from '../telephony/registry.ts';
import { AgentRegistry } from './agent-registry.ts';
import type { CallManager } from './call-manager.ts';
import type { MediaLifecycleOptions } from './calls/media-lifecycle.ts';
import { PrometheusCallMetrics } from './call-metrics.ts';
import { createCallServices, type ProviderOptions } from './call-services.ts';
import { CarrierSet, type CarrierStatus } from './carrier-set.ts';
import { describeProviders, isLocalProvider, type ProviderStatus } from './provider-status.ts';
import type { SandboxNumber } from './routes/dashboard.ts';
import { createServer } from './server.ts';

export interface StartOptions extends ProviderOptions {
  /** @default loadConfig() (environment and .env, with the variables of every carrier below) */
  config?: Config;
  /** @default a JSON logger at the configured level */
  log?: Logger;
  /** Agents to serve; the first is the default. @default the appointment-reminder agent */
  agents?: AgentDefinition[];
  /**
   * The carriers this server runs: adapters (settings from the environment) or configured carriers (settings in
   * code, e.g. `twilio({ accountSid, authToken })`). @default the built-in carriers, from the environment
   */
  carriers?: ReadonlyArray<CarrierAdapter | ConfiguredCarrier>;
  /** Call records. @default a SQLite store in `SWITCHBOARD_DATA_DIR` (closed by `close()`) */
  store?: CallStore;
  /** Sandbox provider timing (see {@link SandboxOptions}). @default 'realistic' */
  sandboxTiming?: SandboxOptions['timing'];
  /** Sandbox carrier ringing/answer time scale (see {@link SandboxOptions}). @default 1 */
  sandboxTimeScale?: number;
  /** Sandbox personas. @default the built-in ones */
  personas?: PersonaRegistry;
  /** Media time limits (start, watchdog, shutdown). @default see {@link MediaLifecycleOptions} */
  media?: MediaLifecycleOptions;
}

export interface RunningSwitchboard {
  config: Config;
  /** Base URL the server listens on, e.g. `http://127.0.0.1:7860`. */
  url: string;
  /** Where carriers reach it (PUBLIC_URL, or `http://localhost:<port>`): configure carrier webhooks with this. */
  publicUrl: string;
  app: FastifyInstance;
  manager: CallManager;
  store: CallStore;
  metrics: PrometheusCallMetrics;
  /** Present in sandbox mode (every carrier and provider emulated locally). */
  sandbox: Sandbox | undefined;
  /** How each carrier and provider runs: live, emulated, given in code, or unavailable (with what is missing). */
  status: { carriers: CarrierStatus[]; providers: ProviderStatus[] };
  close(): Promise<void>;
}

/**
 * Starts Switchboard: configuration, the sandbox when nothing has credentials (loaded on demand, never in a
 * configured production process), call store (marking calls a previous run left unfinished as failed), carriers,
 * provider services, then the HTTP server. Logs which carriers and providers are live, emulated or unavailable.
 */
export async function startSwitchboard(options: StartOptions = {}): Promise<RunningSwitchboard> {
  const given = (options.carriers ?? builtinCarriers).map((carrier) =>
    'adapter' in carrier ? { adapter: carrier.adapter, settings: carrier.settings as unknown } : { adapter: carrier, settings: undefined },
  );
  const adapters = given.map((carrier) => carrier.adapter);
  const initial = options.config ?? loadConfig(undefined, { carriers: adapters });
  const log = options.log ?? createLogger({ level: initial.logLevel });
  const carriers = given.map(({ adapter, settings }) => ({ adapter, settings: settings ?? settingsOf(adapter, initial) }));
  const providers = { stt: options.stt !== undefined, llm: options.llm !== undefined, tts: options.tts !== undefined };

  const sandboxOn =
    initial.sandbox === 'on' ||
    (initial.sandbox === 'auto' &&
      carriers.every(({ adapter, settings }) => !carrierConfigured(adapter, settings)) &&
      describeProviders(initial, providers, false).every((provider) => provider.mode !== 'live'));
  let sandbox: Sandbox | undefined;
  let config = initial;
  if (sandboxOn) {
    const { startSandbox } = await import('../sandbox/sandbox.ts');
    sandbox = await startSandbox(initial, {
      log,
      carriers,
      providers: {
        stt: !providers.stt && !isLocalProvider(initial, 'stt'),
        llm: !providers.llm && !isLocalProvider(initial, 'llm'),
        tts: !providers.tts && !isLocalProvider(initial, 'tts'),
      },
      ...(options.sandboxTiming ? { timing: options.sandboxTiming } : {}),
      ...(options.sandboxTimeScale ? { timeScale: options.sandboxTimeScale } : {}),
      ...(options.personas ? { personas: options.personas } : {}),
    });
    config = sandbox.config;
  }
  const ownStore = options.store === undefined;
  const store = options.store ?? CallStore.open({ dataDir: config.dataDir, carriers: adapters.map((adapter) => adapter.name) });
  let carrierSet: CarrierSet | undefined;
  try {
    const recovered = store.recoverInterruptedCalls();
    if (recovered.length > 0) log.warn({ calls: recovered }, 'calls left unfinished by the previous run marked failed');

    const publicUrls = publicUrlsFrom(config.publicUrl);
    // Carriers are created before the call manager that drives them; their calls reach it through this.
    const late: { manager?: CallManager } = {};
    const calls = lateCallControl(() => late.manager);
    carrierSet = await CarrierSet.create(
      carriers.map(({ adapter }) => ({ adapter, settings: config.carriers[adapter.name], emulated: sandbox !== undefined })),
      { log, publicUrls, calls },
    );
    hangUpRecovered(recovered, store, carrierSet, log);

    const agents = new AgentRegistry(options.agents);
    await sandbox?.serveAgents(agents.list());
    const services = await createCallServices(config, {
      ...(sandbox?.tls ? { tls: sandbox.tls } : {}),
      providers: { ...pick(options, 'stt'), ...pick(options, 'llm'), ...pick(options, 'tts') },
      agents: agents.list(),
    });
    const metrics = new PrometheusCallMetrics();
    const server = await createServer({
      log,
      store,
      agents,
      services,
      carriers: carrierSet,
      defaultCarrier: config.defaultCarrier,
      publicUrls,
      apiKey: config.apiKey,
      mediaSecret: config.secret,
      metrics,
      sandbox: sandbox !== undefined,
      dashboard: { sandboxNumbers: sandboxNumbersOf(sandbox) },
      recordings: { dir: join(config.dataDir, 'recordings'), retentionDays: config.recordingRetentionDays },
      ...(options.media ? { media: options.media } : {}),
    });
    const { app, manager } = server;
    late.manager = manager;
    const address = await app.listen({ port: config.port, host: config.host });
    const port = Number(new URL(address).port);
    const url = `http://127.0.0.1:${port}`;
    // Without PUBLIC_URL the carriers (local emulators) reach us where we actually listen.
    if (!config.publicUrlExplicit) Object.assign(publicUrls, publicUrlsFrom(`http://localhost:${port}`));
    const status = { carriers: carrierSet.statuses(), providers: describeProviders(config, providers, sandbox !== undefined) };
    log.info({ url, publicUrl: publicUrls.http, sandbox: sandbox !== undefined, ...status }, 'switchboard listening');
    const liveCarriers = carrierSet;
    return {
      config,
      url,
      publicUrl: publicUrls.http,
      app,
      manager,
      store,
      metrics,
      sandbox,
      status,
      close: async () => {
        await app.close();
        await liveCarriers.close(log);
        await sandbox?.close();
        if (ownStore) store.close();
      },
    };
  } catch (error) {
    await carrierSet?.close(log);
    if (ownStore) store.close();
    await sandbox?.close();
    throw error;
  }
}

/** A carrier's settings from the loaded configuration, or read now for a carrier the configuration did not know. */
function settingsOf(adapter: CarrierAdapter, config: Config): unknown {
  if (adapter.name in config.carriers) return config.carriers[adapter.name];
  const parsed = z.object(adapter.env).safeParse(config.environment);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  const problems: string[] = [];
  const settings = adapter.settingsFromEnv(parsed.data, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  config.carriers[adapter.name] = settings;
  return settings;
}

function pick<K extends keyof ProviderOptions>(options: ProviderOptions, key: K): Partial<Pick<ProviderOptions, K>> {
  return options[key] === undefined ? {} : ({ [key]: options[key] } as Pick<ProviderOptions, K>);
}

/** Call control that forwards to the manager once it exists (carriers are built first). */
function lateCallControl(manager: () => CallManager | undefined): CallControl {
  const get = (): CallManager => {
    const current = manager();
    if (!current) throw new Error('call manager not started yet');
    return current;
  };
  return {
    answer: (request) => get().answer(request),
    applyStatus: (update, callId) => get().applyStatus(update, callId),
    placeCall: (request) => get().placeCall(request),
    runMedia: (callId, channel) => get().runMedia(callId, channel),
    transfer: (callId, destination) => get().transfer(callId, destination),
    sipLeg: (callId, carrier) => get().sipLeg(callId, carrier),
    checkMetadata: (metadata) => get().checkMetadata(metadata),
    carrierAnsweredBy: (report) => get().carrierAnsweredBy(report),
  };
}

/** Carrier legs of calls the previous run left behind may still be up: hang them up (best effort). */
function hangUpRecovered(recovered: string[], store: CallStore, carriers: CarrierSet, log: Logger): void {
  for (const callId of recovered) {
    const record = store.getCall(callId);
    const carrier = record ? carriers.find(record.carrier) : undefined;
    if (!record?.carrierCallId || !carrier) continue;
    carrier.hangUp({ callId, carrierCallId: record.carrierCallId }).then(
      () => store.addEvent(callId, 'carrier.hangup', { reason: 'recovered after restart' }),
      (error: unknown) =>
        log.warn({ callId, err: error instanceof Error ? error.message : String(error) }, 'hang-up of recovered call failed'),
    );
  }
}

/** The numbers the sandbox carriers answer (the personas), for the dashboard's place-call form. */
function sandboxNumbersOf(sandbox: Sandbox | undefined): SandboxNumber[] {
  return (sandbox?.personas.entries() ?? []).map(([number, persona]) => ({
    number,
    persona: persona.id,
    ...(persona.description ? { description: persona.description } : {}),
    outcome: persona.outcome ?? 'answer',
  }));
}
