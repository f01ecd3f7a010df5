import type { FastifyInstance } from 'fastify';
import type { Logger } from '../log.ts';
import { createLogger } from '../log.ts';
import type { AgentDefinition } from '../agent/agent-definition.ts';
import type { Config } from '../config.ts';
import { loadConfig } from '../config.ts';
import type { Sandbox, SandboxOptions } from '../sandbox/sandbox.ts';
import { startSandbox } from '../sandbox/sandbox.ts';
import { CallStore } from '../store/index.ts';
import type { CarrierCallClient, CarrierName } from '../telephony/carrier.ts';
import { PlivoCallClient } from '../telephony/plivo/call-client.ts';
import { TwilioCallClient } from '../telephony/twilio/call-client.ts';
import { AgentRegistry } from './agent-registry.ts';
import type { CallManager } from './call-manager.ts';
import { PrometheusCallMetrics } from './call-metrics.ts';
import { createCallServices } from './call-services.ts';
import { publicUrlsFrom } from './public-urls.ts';
import type { SandboxNumber } from './routes/dashboard.ts';
import { createServer } from './server.ts';

export interface StartOptions {
  /** @default loadConfig() (environment and .env) */
  config?: Config;
  /** @default a JSON logger at the configured level */
  log?: Logger;
  /** Agents to serve; the first is the default. @default the appointment-reminder agent */
  agents?: AgentDefinition[];
  /** Sandbox provider timing (see {@link SandboxOptions}). @default 'realistic' */
  sandboxTiming?: SandboxOptions['timing'];
  /** Sandbox carrier ringing/answer time scale (see {@link SandboxOptions}). @default 1 */
  sandboxTimeScale?: number;
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
  /** Present when carriers or providers are emulated locally. */
  sandbox: Sandbox | undefined;
  close(): Promise<void>;
}

/**
 * Starts Switchboard: configuration, sandbox emulators for whatever has no credentials, call store (marking
 * calls a previous run left unfinished as failed), carrier clients, provider services, then the HTTP server.
 */
export async function startSwitchboard(options: StartOptions = {}): Promise<RunningSwitchboard> {
  const initial = options.config ?? loadConfig();
  const log = options.log ?? createLogger({ level: initial.logLevel });
  let sandbox: Sandbox | undefined;
  let config = initial;
  const missing =
    !initial.twilio.accountSid ||
    !initial.plivo.authId ||
    (initial.stt.provider === 'deepgram' ? !initial.deepgram.apiKey : !initial.stt.openai.apiKey) ||
    (initial.llm.provider === 'google' ? !initial.llm.google.apiKey : initial.llm.provider === 'openai' && !initial.llm.openai.apiKey) ||
    (initial.tts.provider === 'cartesia' && !initial.tts.cartesia.apiKey) ||
    (initial.tts.provider === 'elevenlabs' && !initial.tts.elevenlabs.apiKey);
  if (initial.sandbox === 'on' || (initial.sandbox === 'auto' && missing)) {
    sandbox = await startSandbox(initial, {
      log,
      ...(options.sandboxTiming ? { timing: options.sandboxTiming } : {}),
      ...(options.sandboxTimeScale ? { timeScale: options.sandboxTimeScale } : {}),
    });
    config = sandbox.config;
  }
  const store = CallStore.open({ dataDir: config.dataDir });
  try {
    const recovered = store.recoverInterruptedCalls();
    if (recovered.length > 0) log.warn({ calls: recovered }, 'calls left unfinished by the previous run marked failed');

    const carriers: Partial<Record<CarrierName, CarrierCallClient>> = {};
    if (config.twilio.accountSid && config.twilio.authToken) {
      carriers.twilio = new TwilioCallClient({
        accountSid: config.twilio.accountSid,
        authToken: config.twilio.authToken,
        ...(config.twilio.apiBaseUrl ? { baseUrl: config.twilio.apiBaseUrl } : {}),
        logger: log,
      });
    }
    if (config.plivo.authId && config.plivo.authToken) {
      carriers.plivo = new PlivoCallClient({
        authId: config.plivo.authId,
        authToken: config.plivo.authToken,
        ...(config.plivo.apiBaseUrl ? { baseUrl: config.plivo.apiBaseUrl } : {}),
        logger: log,
      });
    }
    // Carrier legs of calls the previous run left behind may still be up: hang them up (best effort).
    for (const callId of recovered) {
      const record = store.getCall(callId);
      const client = record ? carriers[record.carrier as CarrierName] : undefined;
      if (!record?.carrierCallId || !client) continue;
      client.hangUp({ callId, carrierCallId: record.carrierCallId }).then(
        () => store.addEvent(callId, 'carrier.hangup', { reason: 'recovered after restart' }),
        (error: unknown) =>
          log.warn({ callId, err: error instanceof Error ? error.message : String(error) }, 'hang-up of recovered call failed'),
      );
    }
    const services = await createCallServices(config, sandbox?.tls ? { tls: sandbox.tls } : {});
    const metrics = new PrometheusCallMetrics();
    const publicUrls = publicUrlsFrom(config.publicUrl);
    const defaultFrom: Partial<Record<CarrierName, string>> = {};
    if (config.twilio.phoneNumber) defaultFrom.twilio = config.twilio.phoneNumber;
    if (config.plivo.phoneNumber) defaultFrom.plivo = config.plivo.phoneNumber;
    const { app, manager } = await createServer({
      log,
      store,
      agents: new AgentRegistry(options.agents),
      services,
      carriers,
      webhookAuth: { twilio: config.twilio.authToken, plivo: config.plivo.authToken },
      defaultFrom,
      defaultCarrier: config.defaultCarrier,
      publicUrls,
      apiKey: config.apiKey,
      mediaSecret: config.secret,
      metrics,
      sandbox: sandbox !== undefined,
      dashboard: { sandboxNumbers: sandboxNumbersOf(sandbox) },
    });
    const address = await app.listen({ port: config.port, host: config.host });
    const port = Number(new URL(address).port);
    const url = `http://127.0.0.1:${port}`;
    // Without PUBLIC_URL the carriers (local emulators) reach us where we actually listen.
    if (!config.publicUrlExplicit) Object.assign(publicUrls, publicUrlsFrom(`http://localhost:${port}`));
    log.info({ url, publicUrl: publicUrls.http, sandbox: sandbox?.emulated ?? [] }, 'switchboard listening');
    return {
      config,
      url,
      publicUrl: publicUrls.http,
      app,
      manager,
      store,
      metrics,
      sandbox,
      close: async () => {
        await app.close();
        await sandbox?.close();
        store.close();
      },
    };
  } catch (error) {
    store.close();
    await sandbox?.close();
    throw error;
  }
}

/** The numbers the sandbox carriers answer (the personas), for the dashboard's place-call form. */
function sandboxNumbersOf(sandbox: Sandbox | undefined): SandboxNumber[] {
  const personas = sandbox?.twilio?.personas ?? sandbox?.plivo?.personas;
  return (personas?.entries() ?? []).map(([number, persona]) => ({
    number,
    persona: persona.id,
    ...(persona.description ? { description: persona.description } : {}),
    outcome: persona.outcome ?? 'answer',
  }));
}
