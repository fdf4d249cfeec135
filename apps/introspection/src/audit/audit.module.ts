import { Module } from '@nestjs/common';
import { AdminAuthModule } from '#lib/service-runtime';
import { ClientAsOfHandler } from './as-of/client-as-of.handler.js';
import { GrantAsOfHandler } from './as-of/grant-as-of.handler.js';
import { SessionAsOfHandler } from './as-of/session-as-of.handler.js';
import { TokenAsOfHandler } from './as-of/token-as-of.handler.js';
import { AuditNatsController } from './audit.nats.controller.js';
import { ClientAuditHistoryHandler } from './history/client-history.handler.js';
import { GrantHistoryHandler } from './history/grant-history.handler.js';
import { SessionHistoryHandler } from './history/session-history.handler.js';
import { TokenHistoryHandler } from './history/token-history.handler.js';
import { UserHistoryHandler } from './history/user-history.handler.js';

/**
 * The audit read side the introspection process hosts (docs/events.md "Audit API"): histories of a
 * client, a grant, a token, a user and a browser session, a page at a time, and a client, grant,
 * token or session as of an instant, for admins only. It reads the event store (EventStoreModule, global) and appends nothing.
 */
@Module({
  imports: [AdminAuthModule.forService('introspection')],
  controllers: [AuditNatsController],
  providers: [
    TokenHistoryHandler,
    TokenAsOfHandler,
    ClientAuditHistoryHandler,
    ClientAsOfHandler,
    GrantHistoryHandler,
    GrantAsOfHandler,
    UserHistoryHandler,
    SessionHistoryHandler,
    SessionAsOfHandler,
  ],
})
export class AuditModule {}
