import { Module } from '@nestjs/common';
import { edgeModule } from '#lib/http-edge';
import { AdminAuditHttpController } from './admin-api/admin-audit.http.controller.js';
import { AdminClientsHttpController } from './admin-api/admin-clients.http.controller.js';
import { AdminSessionsHttpController } from './admin-api/admin-sessions.http.controller.js';
import { AdminTokensHttpController } from './admin-api/admin-tokens.http.controller.js';
import { AdminUsersHttpController } from './admin-api/admin-users.http.controller.js';

/**
 * The admin plane: the admin API and the audit pages, on a listener of their own (Hydra's
 * public/admin split), reached through an internal Service only. It verifies nothing itself: each
 * command carries the caller's bearer credential to the service that owns it. Its NATS user is the
 * only one besides the CLI's that may publish `<prefix>.*.admin.*`.
 */
@Module(
  edgeModule('admin', [
    AdminClientsHttpController,
    AdminUsersHttpController,
    AdminTokensHttpController,
    AdminAuditHttpController,
    AdminSessionsHttpController,
  ]),
)
export class AdminModule {}
