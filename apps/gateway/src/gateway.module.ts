import { Module } from '@nestjs/common';
import { edgeModule } from '#lib/http-edge';
import { AuthorizeHttpController } from './authorize/authorize.http.controller.js';
import { DiscoveryHttpController } from './discovery/discovery.http.controller.js';
import { IntrospectionHttpController } from './introspection/introspection.http.controller.js';
import { RegistrationHttpController } from './registration/registration.http.controller.js';
import { TokenHttpController } from './token/token.http.controller.js';
import { UserInfoHttpController } from './userinfo/userinfo.http.controller.js';

/**
 * The public listener (the issuer URL): protocol endpoints, registration, login and consent pages.
 * Its NATS user publishes only the public operations (libs/contracts bus-permissions.ts).
 */
@Module(
  edgeModule('gateway', [
    TokenHttpController,
    IntrospectionHttpController,
    DiscoveryHttpController,
    AuthorizeHttpController,
    RegistrationHttpController,
    UserInfoHttpController,
  ]),
)
export class GatewayModule {}
