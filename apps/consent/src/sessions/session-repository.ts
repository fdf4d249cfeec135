import { Inject, Injectable } from '@nestjs/common';
import { eventMetadata, type RequestContext, type SessionView } from '#lib/contracts';
import type { Decision } from '#lib/decider';
import {
  activeSessions,
  decideSession,
  SESSION_FOLD,
  type SessionCommand,
  type SessionEndReason,
  type SessionState,
  sessionStreamId,
  SID,
} from '#lib/domain-consent';
import type { ClientViews } from '#lib/domain-client';
import { aggregateStream, type EventStore, ExpectedVersionConflict, type NewEvent } from '#lib/event-store';
import { notFound } from '#lib/oauth-errors';
import { CLOCK, type Clock, EVENT_STORE } from '#lib/service-runtime';
import { CLIENT_VIEWS } from '../consent.tokens.js';
import { UserProjectionsService } from '../users/user-projections.service.js';

/** The audit trail of a session command: the verified actor and the request. */
export interface SessionCaller {
  actor: string;
  context: Partial<RequestContext>;
}

/**
 * The `session-<sid>` streams: a session is read from its stream at every use (never from the
 * read model), changed through its decider, and listed per user from the `user-sessions` read model.
 */
@Injectable()
export class SessionRepository {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly projections: UserProjectionsService,
    @Inject(CLIENT_VIEWS) private readonly clients: ClientViews,
  ) {}

  async load(sid: string): Promise<{ state: SessionState; version: number }> {
    if (typeof sid !== 'string' || !SID.test(sid)) return { state: { status: 'none' }, version: 0 };
    return aggregateStream(this.store, sessionStreamId(sid), SESSION_FOLD);
  }

  /** The command decided on the session's current state and its events appended (refusals thrown). */
  async change(sid: string, command: SessionCommand, caller: SessionCaller): Promise<number> {
    const decision = await this.decideAndAppend(sid, command, caller);
    if (decision.refusal !== null) throw decision.refusal;
    return decision.events.length;
  }

  /**
   * For work that more than one replica may try at once (logout deliveries): the events appended,
   * or null when the command was refused or another writer changed the stream first.
   */
  async tryChange(sid: string, command: SessionCommand, caller: SessionCaller): Promise<NewEvent[] | null> {
    try {
      const decision = await this.decideAndAppend(sid, command, caller);
      return decision.refusal === null ? decision.events : null;
    } catch (err) {
      if (err instanceof ExpectedVersionConflict) return null;
      throw err;
    }
  }

  /** The command decided on the session's current state; its events appended unless it was refused. */
  private async decideAndAppend(
    sid: string,
    command: SessionCommand,
    caller: SessionCaller,
  ): Promise<Decision> {
    const { state, version } = await this.load(sid);
    if (command.type === 'EndSession' && state.status === 'active')
      command = { ...command, logoutNotifications: await this.backchannelClients(state.clients) };
    const decision = decideSession(command, state);
    if (decision.refusal !== null || decision.events.length === 0) return decision;
    const metadata = eventMetadata(caller.context, caller.actor);
    await this.store.appendToStream(
      sessionStreamId(sid),
      version,
      decision.events.map((e) => ({ ...e, metadata })),
    );
    return decision;
  }

  /**
   * Back-Channel Logout 1.0 §2.2: of the clients a session signed in to, those whose current
   * registration has a backchannel_logout_uri, told when the session ends.
   */
  private async backchannelClients(clientIds: readonly string[]): Promise<string[]> {
    const views = await Promise.all(clientIds.map((id) => this.clients.view(id)));
    return clientIds.filter((_, i) => views[i]?.backchannelLogoutUri !== undefined);
  }

  /** The user's sessions that stand now (the read model, caught up first). */
  async sessionsOf(sub: string): Promise<SessionView[]> {
    return activeSessions(await this.projections.sessionsOf(sub), this.clock());
  }

  /**
   * Ends one of the user's sessions: a sid that is not the user's is answered as one that does not
   * exist, so that no one learns of another user's session.
   */
  async endOfUser(
    sub: string,
    sid: string,
    reason: SessionEndReason,
    caller: SessionCaller,
  ): Promise<boolean> {
    const { state } = await this.load(sid);
    if (state.status === 'none' || state.sub !== sub) throw notFound('no such session');
    const now = this.clock();
    return (await this.change(sid, { type: 'EndSession', reason, endedBy: caller.actor, now }, caller)) > 0;
  }

  /** Ends every session of the user that stands. */
  async endAllOfUser(sub: string, reason: SessionEndReason, caller: SessionCaller): Promise<number> {
    let ended = 0;
    for (const s of await this.sessionsOf(sub)) {
      if (await this.endOfUser(sub, s.sid, reason, caller).catch(() => false)) ended++;
    }
    return ended;
  }
}
