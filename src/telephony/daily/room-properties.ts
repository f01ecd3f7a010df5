/**
 * `dailyRoomProperties` of Pipecat Cloud's start body: Daily room properties (https://docs.daily.co/reference/rest-api/rooms/config)
 * the caller wants on the call's room. Validated against the properties Daily documents (unknown names, wrong types
 * and the read-only `sip_uri` are refused with 400), then merged under the properties the flow needs.
 */
import { z } from 'zod';
import type { DailyRoomProperties, DailyRoomSipProperties } from './rest-client.ts';

const flag = z.boolean().optional();
const text = z.string().max(2048).optional();
const object = z.record(z.string(), z.unknown()).optional();
const unixSeconds = z.number().int().positive().optional();
/** Daily's limit on `exp` for rooms with PSTN/SIP. */
const MAX_SIP_ROOM_LIFETIME_SEC = 365 * 24 * 3600;

const sipProperties = z
  .object({
    display_name: z.string().max(256).optional(),
    video: flag,
    sip_mode: z.literal('dial-in').optional(),
    num_endpoints: z.number().int().min(1).max(5).optional(),
    codecs: z
      .object({ audio: z.array(z.string()).optional(), video: z.array(z.string()).optional() })
      .strict()
      .optional(),
    provider: text,
  })
  .strict();

/** The room properties Daily documents for `POST /rooms` (nested settings objects are passed on as given). */
export const dailyRoomPropertiesSchema = z
  .object({
    nbf: unixSeconds,
    exp: unixSeconds,
    max_participants: z.number().int().min(1).optional(),
    enable_people_ui: flag,
    enable_pip_ui: flag,
    enable_emoji_reactions: flag,
    enable_hand_raising: flag,
    enable_prejoin_ui: flag,
    enable_live_captions_ui: flag,
    enable_network_ui: flag,
    enable_noise_cancellation_ui: flag,
    enable_breakout_rooms: flag,
    enable_knocking: flag,
    enable_screenshare: flag,
    enable_video_processing_ui: flag,
    enable_chat: flag,
    enable_advanced_chat: flag,
    enable_shared_chat_history: flag,
    enable_hidden_participants: flag,
    enable_mesh_sfu: flag,
    enable_adaptive_simulcast: flag,
    enable_multiparty_adaptive_simulcast: flag,
    enforce_unique_user_ids: flag,
    enable_terse_logging: flag,
    enable_transcription_storage: flag,
    auto_start_transcription: flag,
    experimental_optimize_large_calls: flag,
    start_video_off: flag,
    start_audio_off: flag,
    owner_only_broadcast: flag,
    eject_at_room_exp: flag,
    eject_after_elapsed: z.number().int().positive().optional(),
    sfu_switchover: z.number().positive().optional(),
    lang: text,
    geo: text,
    rtmp_geo: text,
    disable_rtmp_geo_fallback: flag,
    meeting_join_hook: z.string().url().max(2048).optional(),
    enable_recording: z.enum(['cloud', 'cloud-audio-only', 'local', 'raw-tracks', 'output-byte-stream', '<not set>']).optional(),
    recordings_template: text,
    recordings_bucket: object,
    transcription_bucket: object,
    auto_transcription_settings: object,
    permissions: object,
    streaming_endpoints: z.array(z.record(z.string(), z.unknown())).optional(),
    enable_dialout: flag,
    dialout_config: object,
    dialin: object,
    sip: sipProperties.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const now = Date.now() / 1000;
    if (p.exp !== undefined && (p.exp <= now || p.exp - now > MAX_SIP_ROOM_LIFETIME_SEC)) {
      ctx.addIssue({ code: 'custom', path: ['exp'], message: 'exp must be in the future and within 365 days (Daily limit for SIP rooms)' });
    }
  });

export type DailyRoomPropertiesInput = z.infer<typeof dailyRoomPropertiesSchema>;

/**
 * The room's properties: the caller's, under the ones the flow needs. Ours win: `sip` field by field, `enable_dialout`
 * when the flow dials out, `eject_at_room_exp`. `exp` is the caller's when given. Returns the names of the caller's
 * properties that were overridden.
 */
export function mergeRoomProperties(
  given: DailyRoomPropertiesInput | undefined,
  ours: DailyRoomProperties,
): { properties: DailyRoomProperties; overridden: string[] } {
  if (!given) return { properties: ours, overridden: [] };
  const overridden: string[] = [];
  const properties: DailyRoomProperties = { ...given, ...ours };
  if (given.exp !== undefined) properties.exp = given.exp;
  if (given.eject_at_room_exp !== undefined && given.eject_at_room_exp !== ours.eject_at_room_exp) overridden.push('eject_at_room_exp');
  if (given.enable_dialout !== undefined) {
    properties.enable_dialout = Boolean(ours.enable_dialout) || given.enable_dialout;
    if (properties.enable_dialout !== given.enable_dialout) overridden.push('enable_dialout');
  }
  if (given.sip) {
    const oursSip = ours.sip ?? undefined;
    if (oursSip) {
      properties.sip = { ...given.sip, ...oursSip } as DailyRoomSipProperties;
      for (const key of Object.keys(given.sip) as Array<keyof DailyRoomSipProperties>) {
        if (key in oursSip && JSON.stringify(given.sip[key]) !== JSON.stringify(oursSip[key])) overridden.push(`sip.${key}`);
      }
    } else {
      // The flow needs no SIP endpoint in this room (dial-out with the bot dialled in): the caller's `sip` stands.
      properties.sip = given.sip as DailyRoomSipProperties;
    }
  }
  return { properties, overridden };
}
