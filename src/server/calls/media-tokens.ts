import { randomBytes } from 'node:crypto';
import { createMediaToken, verifyMediaToken, type MediaTokenVerification } from '../../telephony/media-token.ts';

export interface MediaTokenOptions {
  /** Signs per-call media tokens. @default 32 random bytes (tokens don't survive a restart) */
  secret?: string;
  /** How long a media token stays valid after the markup was served. @default 900 */
  ttlSec?: number;
}

/** Issues and checks the per-call tokens that authenticate carrier media sockets. */
export class MediaTokens {
  private readonly secret: string;
  private readonly ttlSec: number;

  constructor(options: MediaTokenOptions = {}) {
    this.secret = options.secret ?? randomBytes(32).toString('hex');
    this.ttlSec = options.ttlSec ?? 900;
  }

  issue(callId: string): string {
    return createMediaToken(callId, { secret: this.secret, ttlSec: this.ttlSec });
  }

  verify(token: string): MediaTokenVerification {
    return verifyMediaToken(token, { secret: this.secret });
  }
}
