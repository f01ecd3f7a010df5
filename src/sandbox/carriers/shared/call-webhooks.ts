/** A call's webhooks: sent signed, recorded in the call record, and (for callbacks) delivered in order. */
import type { Logger } from '../../../log.ts';
import type { EmulatedCallRecord } from './call-record.ts';
import type { FormFields } from './http-util.ts';
import { sendWebhook, type WebhookMethod, type WebhookRecord, type WebhookSigner } from './webhook.ts';

export interface CallWebhooksOptions {
  record: EmulatedCallRecord;
  sign: WebhookSigner;
  timeoutMs: number;
  userAgent: string;
  log: Logger;
}

export class CallWebhooks {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: CallWebhooksOptions) {}

  /** Sends now and resolves with the record (markup fetches: `keepBody`). */
  async send(kind: string, url: string, method: WebhookMethod, params: FormFields, keepBody = false): Promise<WebhookRecord> {
    const { record: call, sign, timeoutMs, userAgent, log } = this.options;
    const record = await sendWebhook({ kind, url, method, params, sign, keepBody, timeoutMs, headers: { 'User-Agent': userAgent } });
    call.callbacks.push(record);
    if (record.status === null || record.status >= 400) {
      log.warn({ kind, url, status: record.status, error: record.error }, 'webhook failed');
    }
    return record;
  }

  /** Sends after every webhook queued before it (status callbacks arrive in order), without waiting. */
  queue(kind: string, url: string, method: WebhookMethod, params: FormFields): void {
    this.chain = this.chain.then(async () => {
      await this.send(kind, url, method, params);
    });
  }

  /** Resolves once everything queued so far has been delivered (or failed). */
  settled(): Promise<void> {
    return this.chain;
  }
}
