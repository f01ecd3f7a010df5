/**
 * Dialog state (RFC 3261 §12): Call-ID, tags, CSeq counters, remote target and route set, and building
 * requests inside the dialog (BYE, re-INVITE, UPDATE, INFO, REFER, ACK for 2xx).
 */
import { parseSipUri } from './lib/sip-codec.ts';
import type { IncomingRequest } from './transport/sip-stack.ts';
import type { NameAddr, SipHeaders, SipRequest, SipResponse } from './sip-message.ts';
import { tagOf } from './sip-message.ts';

export interface DialogInit {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** Our URI (From in our requests) and theirs (To), with display names. */
  local: NameAddr;
  remote: NameAddr;
  localSeq: number;
  remoteSeq: number;
  remoteTarget: string;
  routeSet: NameAddr[];
  /** Our Contact. */
  contact: NameAddr;
}

export class SipDialog {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly local: NameAddr;
  readonly remote: NameAddr;
  localSeq: number;
  remoteSeq: number;
  remoteTarget: string;
  readonly routeSet: NameAddr[];
  readonly contact: NameAddr;

  constructor(init: DialogInit) {
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.local = init.local;
    this.remote = init.remote;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.contact = init.contact;
  }

  /** The key the endpoint files this dialog under. */
  get key(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  /** UAS side: from the INVITE we answer with `localTag` (RFC 3261 §12.1.1). */
  static forIncoming(invite: IncomingRequest, localTag: string, contact: NameAddr): SipDialog {
    const h = invite.headers;
    return new SipDialog({
      callId: h['call-id'],
      localTag,
      remoteTag: tagOf(h.from) ?? '',
      local: { ...h.to, params: { tag: localTag } },
      remote: { ...h.from, params: { ...h.from.params } },
      localSeq: Math.floor(Math.random() * 10_000) + 1,
      remoteSeq: h.cseq.seq,
      remoteTarget: firstContact(invite) ?? h.from.uri,
      routeSet: [...(h['record-route'] ?? [])],
      contact,
    });
  }

  /** UAC side: from our INVITE and the 2xx that answered it (RFC 3261 §12.1.2). */
  static forOutgoing(invite: SipRequest, response: SipResponse, contact: NameAddr): SipDialog {
    const h = invite.headers;
    const to = response.headers.to as NameAddr;
    return new SipDialog({
      callId: h['call-id'] as string,
      localTag: tagOf(h.from) ?? '',
      remoteTag: tagOf(to) ?? '',
      local: h.from as NameAddr,
      remote: { ...to, params: { ...to.params } },
      localSeq: h.cseq?.seq ?? 1,
      remoteSeq: 0,
      remoteTarget: firstContact(response) ?? invite.uri,
      routeSet: [...(response.headers['record-route'] ?? [])].reverse(),
      contact,
    });
  }

  /** A new request in this dialog with the next CSeq. */
  request(method: string, headers: Record<string, unknown> = {}, content?: string): SipRequest {
    this.localSeq++;
    return this.build(method, this.localSeq, headers, content);
  }

  /** The ACK for a 2xx to our INVITE with CSeq `inviteSeq` (RFC 3261 §13.2.2.4). */
  ack(inviteSeq: number, content?: string): SipRequest {
    return this.build('ACK', inviteSeq, content ? { 'content-type': 'application/sdp' } : {}, content);
  }

  /** Where requests in this dialog go first: the top route, or the remote target (RFC 3261 §12.2.1.1). */
  nextHop(): string {
    const top = this.routeSet[0];
    return top ? top.uri : this.remoteTarget;
  }

  /** Checks an in-dialog request's CSeq; false for an old or repeated one (→ 500, RFC 3261 §12.2.2). */
  acceptRemoteSeq(seq: number, method: string): boolean {
    if (method === 'ACK' || method === 'CANCEL') return true;
    if (this.remoteSeq !== 0 && seq <= this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /** A target refresh (re-INVITE/UPDATE with Contact) moves the remote target. */
  refreshTarget(message: IncomingRequest | SipResponse): void {
    const contact = firstContact(message);
    if (contact) this.remoteTarget = contact;
  }

  private build(method: string, seq: number, headers: Record<string, unknown>, content?: string): SipRequest {
    let uri = this.remoteTarget;
    let route = this.routeSet.map((r) => ({ ...r, params: { ...r.params } }));
    const top = route[0];
    if (top && parseSipUri(top.uri)?.params.lr === undefined) {
      // Strict routing (RFC 2543 peers): the top route becomes the request URI, the remote target goes last.
      uri = top.uri;
      route = [...route.slice(1), { uri: this.remoteTarget, params: {} }];
    }
    const all: SipHeaders = {
      to: { ...this.remote, params: { ...this.remote.params, tag: this.remoteTag } },
      from: { ...this.local, params: { ...this.local.params, tag: this.localTag } },
      'call-id': this.callId,
      cseq: { seq, method },
      ...(route.length > 0 ? { route } : {}),
      ...(method === 'ACK' || method === 'BYE' || method === 'CANCEL' ? {} : { contact: [this.contact] }),
    };
    for (const [name, value] of Object.entries(headers)) all[name] = value;
    return { method, uri, version: '2.0', headers: all, ...(content !== undefined ? { content } : {}) };
  }
}

export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}

function firstContact(message: { headers: SipHeaders }): string | undefined {
  const contact = message.headers.contact;
  return Array.isArray(contact) && contact[0] ? contact[0].uri : undefined;
}
