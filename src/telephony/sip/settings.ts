/**
 * The SIP carrier's settings: the endpoint's environment variables (`sip-config.ts`) plus what the product adds —
 * inbound routing to agents and the default caller id — and the two defaults that follow the HTTP server's:
 * `SIP_BIND_ADDRESS` (HOST) and `SIP_PORT` (5060, or a free port when PORT is 0).
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { optionalString } from '../../config-schema.ts';
import { SIP_DEFAULTS, sipConfigFromEnv, sipEnvSchema, type SipEndpointConfig, type SipEnv } from './sip-config.ts';

/** The carrier's registered name (`POST /calls {carrier: "sip"}`, call records). */
export const SIP = 'sip';

/** Caller id (From user) of calls placed without `from` when SIP_CALLER_ID is unset. */
export const SIP_DEFAULT_CALLER_ID = 'switchboard';

export interface SipSettings {
  /** The endpoint's configuration (port, addresses, trunk, credentials, codecs, timers). */
  endpoint: SipEndpointConfig;
  /** Dialled user or number → agent name, for inbound calls (else an agent named like the user, else the default). @default {} */
  agentRoutes: Record<string, string>;
  /** From user of calls placed without `from`. @default 'switchboard' */
  callerId?: string;
}

const agentRoutes = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const routes: Record<string, string> = {};
    for (const entry of value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const [user, agent] = entry.split('=').map((s) => s.trim());
      if (!user || !agent) {
        ctx.addIssue({ code: 'custom', message: `SIP_AGENT_ROUTES entries look like 1000=support (got "${entry}")` });
        return z.NEVER;
      }
      routes[user] = agent;
    }
    return routes;
  })
  .optional();

/** The SIP carrier's environment variables (the endpoint's, with SIP_PORT/SIP_BIND_ADDRESS defaults resolved in settings). */
export const sipEnv = {
  ...sipEnvSchema.shape,
  /** UDP and TCP port of the SIP endpoint. @default 5060 (a free port when PORT is 0, as in tests and one-off CLI runs) */
  SIP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Where SIP and RTP sockets bind. @default HOST (0.0.0.0) */
  SIP_BIND_ADDRESS: optionalString,
  /** Inbound routing: `1000=support,+15551230000=sales` (dialled user → agent). @default none (an agent named like the dialled user, else the default agent) */
  SIP_AGENT_ROUTES: agentRoutes,
  /** From user of SIP calls placed without `from` (a number or a name). @default switchboard */
  SIP_CALLER_ID: optionalString,
};

export function sipSettingsFromEnv(env: Record<string, unknown>, problems: string[]): SipSettings {
  const host = typeof env.HOST === 'string' && net.isIP(env.HOST) ? env.HOST : SIP_DEFAULTS.bindAddress;
  const ephemeral = env.PORT === 0;
  const endpointEnv = {
    ...env,
    SIP_PORT: (env.SIP_PORT as number | undefined) ?? (ephemeral ? 0 : SIP_DEFAULTS.port),
    SIP_BIND_ADDRESS: (env.SIP_BIND_ADDRESS as string | undefined) ?? host,
  } as SipEnv;
  let endpoint: SipEndpointConfig = {};
  try {
    endpoint = sipConfigFromEnv(endpointEnv, (path) => readFileSync(path));
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  if (endpoint.rtpPortMin !== undefined && endpoint.rtpPortMax !== undefined && endpoint.rtpPortMin > endpoint.rtpPortMax) {
    problems.push('SIP_RTP_PORT_MIN must not be above SIP_RTP_PORT_MAX');
  }
  if (Boolean(env.SIP_TRUNK_USERNAME) !== Boolean(env.SIP_TRUNK_PASSWORD)) {
    problems.push('SIP_TRUNK_USERNAME and SIP_TRUNK_PASSWORD must be set together');
  }
  if (Boolean(env.SIP_INBOUND_USERNAME) !== Boolean(env.SIP_INBOUND_PASSWORD)) {
    problems.push('SIP_INBOUND_USERNAME and SIP_INBOUND_PASSWORD must be set together');
  }
  const callerId = env.SIP_CALLER_ID as string | undefined;
  return {
    endpoint,
    agentRoutes: (env.SIP_AGENT_ROUTES as Record<string, string> | undefined) ?? {},
    ...(callerId ? { callerId } : {}),
  };
}

/**
 * SIP needs no account: the endpoint answers and places calls on its own (calls to numbers need SIP_TRUNK, checked
 * per call). So it is never "missing credentials", and it runs in every process, sandbox or not.
 */
export function sipMissingCredentials(): string[] {
  return [];
}

/**
 * Whether the environment sets SIP up for real use (a trunk, registrar, inbound networks or credentials): only then
 * does SIP count as a configured carrier that turns the automatic sandbox off.
 */
export function sipConfigured(settings: SipSettings): boolean {
  const e = settings.endpoint;
  return Boolean(e.trunk || e.registrar || e.allowedSources || e.inboundCredentials || e.outboundProxy);
}

/** The caller id of SIP calls placed without `from`. */
export function sipDefaultFrom(settings: SipSettings): string {
  return settings.callerId ?? settings.endpoint.defaultFromUser ?? SIP_DEFAULT_CALLER_ID;
}
