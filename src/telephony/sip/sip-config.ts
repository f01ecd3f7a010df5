/**
 * SIP endpoint settings: the defaults (defined once, here), the environment variables that set them (a zod
 * fragment the server's config composes) and the conversion to {@link SipEndpointConfig}.
 */
import { z } from 'zod';

/**
 * Codecs we can offer/answer, in our order of preference. Opus is not offered: measured with `@evan/opus` it costs
 * 7–17 ms of CPU per call-second (encode + decode, 20 ms frames) against ~1.3 ms for the whole G.711 RTP path.
 */
export const SIP_CODECS = ['PCMU', 'PCMA'] as const;
export type SipCodecName = (typeof SIP_CODECS)[number];

export const SIP_DEFAULTS = {
  /** SIP_PORT */
  port: 5060,
  /** SIP_BIND_ADDRESS */
  bindAddress: '0.0.0.0',
  /** SIP_TRANSPORT: protocol for outgoing requests whose URI names none (we always listen on UDP and TCP). */
  transport: 'udp',
  /** SIP_RTP_PORT_MIN / SIP_RTP_PORT_MAX (even ports are used for RTP; RTCP is not sent). */
  rtpPortMin: 10000,
  rtpPortMax: 20000,
  /** SIP_ALLOWED_SOURCES: networks allowed to send us out-of-dialog requests without digest auth. */
  allowedSources: ['127.0.0.0/8', '::1/128'],
  /** SIP_CODECS */
  codecs: ['PCMU', 'PCMA'] as SipCodecName[],
  /** SIP_SESSION_EXPIRES (RFC 4028) for calls we place, and what we ask of callers that support timers. */
  sessionExpiresSec: 1800,
  /** SIP_MIN_SE: shortest session interval we accept (RFC 4028 says at least 90 on the Internet). */
  minSessionExpiresSec: 90,
  /** SIP_RTP_TIMEOUT_SEC: no RTP from the peer for this long (while it should send) ends the call. */
  rtpTimeoutSec: 30,
  /** SIP_REGISTER_EXPIRES */
  registerExpiresSec: 3600,
  /** SIP_RING_TIMEOUT_SEC: an outgoing INVITE unanswered this long is cancelled (no-answer). */
  ringTimeoutSec: 60,
  /** SIP_USER_AGENT */
  userAgent: 'Switchboard',
  /** SIP_MEDIA_THREAD: RTP runs on its own thread, so 20 ms pacing holds while the main thread is busy. */
  mediaThread: true,
} as const;

const optional = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const port = z.coerce.number().int().min(0).max(65535);
const list = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .optional();

/** Environment variables of the SIP carrier (merge into the server's config schema). */
export const sipEnvSchema = z.object({
  /** @default 5060 */
  SIP_PORT: port.default(SIP_DEFAULTS.port),
  /** @default 0.0.0.0 */
  SIP_BIND_ADDRESS: z.string().trim().default(SIP_DEFAULTS.bindAddress),
  /** Address written in Contact, Via and SDP o=/c= (a NAT's public address). @default the bind address (the first external interface when binding 0.0.0.0) */
  SIP_PUBLIC_ADDRESS: optional,
  /** @default udp */
  SIP_TRANSPORT: z.enum(['udp', 'tcp', 'tls']).default(SIP_DEFAULTS.transport),
  /** @default 10000 */
  SIP_RTP_PORT_MIN: port.default(SIP_DEFAULTS.rtpPortMin),
  /** @default 20000 */
  SIP_RTP_PORT_MAX: port.default(SIP_DEFAULTS.rtpPortMax),
  /** Comma-separated CIDRs. @default 127.0.0.0/8,::1/128 */
  SIP_ALLOWED_SOURCES: list,
  /** Trunk for calls to phone numbers: `sip:trunk.example.com` or `trunk.example.com:5060`. @default unset */
  SIP_TRUNK: optional,
  /** Digest credentials for the trunk (outgoing INVITEs, REGISTER). @default unset */
  SIP_TRUNK_USERNAME: optional,
  SIP_TRUNK_PASSWORD: optional,
  /** Register with this registrar (often the trunk host). @default unset (no registration) */
  SIP_REGISTRAR: optional,
  /** @default 3600 */
  SIP_REGISTER_EXPIRES: z.coerce.number().int().positive().default(SIP_DEFAULTS.registerExpiresSec),
  /** Send every out-of-dialog request here first (`sip:proxy.example.com;lr`). @default unset */
  SIP_OUTBOUND_PROXY: optional,
  /** Challenge inbound INVITEs from outside SIP_ALLOWED_SOURCES with digest auth. @default unset (403 instead) */
  SIP_INBOUND_USERNAME: optional,
  SIP_INBOUND_PASSWORD: optional,
  /** @default PCMU,PCMA */
  SIP_CODECS: list,
  /** @default 1800 */
  SIP_SESSION_EXPIRES: z.coerce.number().int().positive().default(SIP_DEFAULTS.sessionExpiresSec),
  /** @default 90 */
  SIP_MIN_SE: z.coerce.number().int().positive().default(SIP_DEFAULTS.minSessionExpiresSec),
  /** @default 30 */
  SIP_RTP_TIMEOUT_SEC: z.coerce.number().positive().default(SIP_DEFAULTS.rtpTimeoutSec),
  /** PEM files for the TLS listener (on SIP_PORT + 1). @default unset (no TLS listener) */
  SIP_TLS_CERT_FILE: optional,
  SIP_TLS_KEY_FILE: optional,
  /** `false` runs RTP on the main thread. @default true */
  SIP_MEDIA_THREAD: z
    .enum(['true', 'false', '1', '0'])
    .transform((v) => v === 'true' || v === '1')
    .optional(),
});

export type SipEnv = z.infer<typeof sipEnvSchema>;

/** Credentials for digest auth (RFC 2617/3261 §22). */
export interface SipCredentials {
  username: string;
  password: string;
  /** Only answer challenges for this realm. @default any realm */
  realm?: string;
}

/** The endpoint's configuration (what `new SipEndpoint(config)` takes); every field defaults to {@link SIP_DEFAULTS}. */
export interface SipEndpointConfig {
  /** 0 picks a free port (tests). @default 5060 */
  port?: number;
  /** @default '0.0.0.0' */
  bindAddress?: string;
  /** @default the bind address, or the first external IPv4 interface when binding 0.0.0.0 */
  publicAddress?: string;
  /** @default 'udp' */
  transport?: 'udp' | 'tcp' | 'tls';
  /** @default 10000 */
  rtpPortMin?: number;
  /** @default 20000 */
  rtpPortMax?: number;
  /** @default ['127.0.0.0/8', '::1/128'] */
  allowedSources?: string[];
  /** Host or URI of the trunk that phone numbers are dialled through. @default unset */
  trunk?: string;
  /** Digest credentials used when a trunk, registrar or proxy challenges us. @default unset */
  trunkCredentials?: SipCredentials;
  /** @default unset (no REGISTER) */
  registrar?: string;
  /** @default 3600 */
  registerExpiresSec?: number;
  /** @default unset */
  outboundProxy?: string;
  /** Digest-challenge inbound requests from unlisted sources instead of refusing them. @default unset */
  inboundCredentials?: SipCredentials;
  /** @default ['PCMU', 'PCMA'] */
  codecs?: SipCodecName[];
  /** @default 1800 */
  sessionExpiresSec?: number;
  /** @default 90 */
  minSessionExpiresSec?: number;
  /** @default 30 */
  rtpTimeoutSec?: number;
  /** @default 60 */
  ringTimeoutSec?: number;
  /**
   * TLS: `key` + `cert` enable the TLS listener (on `port`, default SIP port + 1); `ca` adds trusted CAs for
   * outgoing `sips:`/`;transport=tls` requests (certificates are always checked unless `rejectUnauthorized` is
   * false). @default unset (outgoing TLS with the system CAs, no TLS listener)
   */
  tls?: { key?: string | Buffer; cert?: string | Buffer; ca?: string | Buffer; rejectUnauthorized?: boolean; port?: number };
  /** @default 'Switchboard' */
  userAgent?: string;
  /**
   * Run RTP (sockets, pacing, jitter buffers) on a media thread of its own. Ignored, and RTP runs on the caller's
   * media clock, when the endpoint is given a `clock` (unit tests). @default true
   */
  mediaThread?: boolean;
  /** Caller id user part for calls placed without `from`. @default 'switchboard' */
  defaultFromUser?: string;
  /**
   * Hosts whose requests go to a fixed `host:port` instead of DNS (the sandbox maps `sandbox` to its callee
   * emulator, so `sip:cooperative@sandbox` reaches it while other URIs go where they say). @default none
   */
  hostRoutes?: Record<string, string>;
}

/** Builds the endpoint configuration from parsed environment variables (`readFile` loads TLS PEMs). */
export function sipConfigFromEnv(env: SipEnv, readFile: (path: string) => Buffer): SipEndpointConfig {
  const config: SipEndpointConfig = {
    port: env.SIP_PORT,
    bindAddress: env.SIP_BIND_ADDRESS,
    transport: env.SIP_TRANSPORT,
    rtpPortMin: env.SIP_RTP_PORT_MIN,
    rtpPortMax: env.SIP_RTP_PORT_MAX,
    registerExpiresSec: env.SIP_REGISTER_EXPIRES,
    sessionExpiresSec: env.SIP_SESSION_EXPIRES,
    minSessionExpiresSec: env.SIP_MIN_SE,
    rtpTimeoutSec: env.SIP_RTP_TIMEOUT_SEC,
  };
  if (env.SIP_MEDIA_THREAD !== undefined) config.mediaThread = env.SIP_MEDIA_THREAD;
  if (env.SIP_PUBLIC_ADDRESS) config.publicAddress = env.SIP_PUBLIC_ADDRESS;
  if (env.SIP_ALLOWED_SOURCES) config.allowedSources = env.SIP_ALLOWED_SOURCES;
  if (env.SIP_TRUNK) config.trunk = env.SIP_TRUNK;
  if (env.SIP_TRUNK_USERNAME && env.SIP_TRUNK_PASSWORD) {
    config.trunkCredentials = { username: env.SIP_TRUNK_USERNAME, password: env.SIP_TRUNK_PASSWORD };
  }
  if (env.SIP_REGISTRAR) config.registrar = env.SIP_REGISTRAR;
  if (env.SIP_OUTBOUND_PROXY) config.outboundProxy = env.SIP_OUTBOUND_PROXY;
  if (env.SIP_INBOUND_USERNAME && env.SIP_INBOUND_PASSWORD) {
    config.inboundCredentials = { username: env.SIP_INBOUND_USERNAME, password: env.SIP_INBOUND_PASSWORD };
  }
  if (env.SIP_CODECS) {
    const codecs = env.SIP_CODECS.map((c) => SIP_CODECS.find((known) => known.toLowerCase() === c.toLowerCase()));
    if (codecs.some((c) => c === undefined)) throw new Error(`SIP_CODECS: supported codecs are ${SIP_CODECS.join(', ')}`);
    config.codecs = codecs as SipCodecName[];
  }
  if (env.SIP_TLS_CERT_FILE && env.SIP_TLS_KEY_FILE) {
    config.tls = { cert: readFile(env.SIP_TLS_CERT_FILE), key: readFile(env.SIP_TLS_KEY_FILE) };
  }
  return config;
}
