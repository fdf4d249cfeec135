import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Config } from '#lib/config';
import { aggregateStream, type EventStore, isExpectedVersionConflict, type NewEvent } from '#lib/event-store';
import {
  activeKey,
  type ActiveSigningKey,
  decide,
  evolve,
  generateKeyMaterial,
  initialState,
  jwksDocument,
  KeyDecryptionError,
  type JwksDocument,
  planInitialKey,
  publishedKeys,
  SIGNING_KEYRING_STREAM,
  Signer,
  type SigningKeyring,
} from '#lib/signing-keys';
import { CONFIG, EVENT_STORE } from '#lib/service-runtime';

/**
 * The token service's view of the signing keyring (stream `signing-keyring`): makes sure a key is
 * active at start, keeps the state fresh from the event store, and signs with the active key.
 */
@Injectable()
export class KeyringService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Keyring');
  private state: SigningKeyring = initialState();
  private version = 0;
  private refreshTimer: NodeJS.Timeout | undefined;
  readonly signer: Signer;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: Config,
  ) {
    this.signer = new Signer(config.keyEncryptionKey);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureActiveKey();
    this.refreshTimer = setInterval(() => {
      this.refresh().catch((err: Error) => this.logger.warn(`keyring refresh failed: ${err.message}`));
    }, 30_000);
    this.refreshTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.refreshTimer);
  }

  async refresh(): Promise<void> {
    const { state, version } = await aggregateStream(
      this.store,
      SIGNING_KEYRING_STREAM,
      evolve,
      initialState,
    );
    this.state = state;
    this.version = version;
  }

  /** First boot: generate and activate a key; replicas racing here are settled by the store. */
  async ensureActiveKey(): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      await this.refresh();
      const now = new Date();
      const plan = planInitialKey(this.state, now);
      if (plan.action === 'none') break;
      let kid: string;
      try {
        if (plan.action === 'generate-and-activate') {
          const material = await generateKeyMaterial(this.config.signingAlg, this.config.keyEncryptionKey);
          const generated = decide(
            { type: 'GenerateSigningKey', ...material, now, activatesAt: now },
            this.state,
          );
          await this.append(generated);
          await this.refresh();
          kid = material.kid;
        } else {
          kid = plan.kid;
        }
        const activated = decide(
          {
            type: 'ActivateSigningKey',
            kid,
            now,
            longestTokenLifetimeSeconds: this.config.accessTokenTtlSeconds,
          },
          this.state,
        );
        await this.append(activated);
        this.logger.log(`signing key ${kid} (${this.config.signingAlg}) active`);
      } catch (err) {
        if (!isExpectedVersionConflict(err)) throw err;
      }
    }
    await this.refresh();
    const active = activeKey(this.state);
    if (active === null) throw new Error('no active signing key after start-up');
    try {
      await this.signer.privateKey(active);
    } catch (err) {
      if (!(err instanceof KeyDecryptionError)) throw err;
      throw new Error(
        `KEY_ENCRYPTION_KEY cannot open the active signing key ${active.kid}: it is not the key the ` +
          'signing keys were sealed with. Start the token service with the original KEY_ENCRYPTION_KEY ' +
          '(see docs/operations.md, key rotation).',
      );
    }
  }

  private async append(events: NewEvent[]): Promise<void> {
    const result = await this.store.appendToStream(
      SIGNING_KEYRING_STREAM,
      this.version,
      events.map((e) => ({ ...e, metadata: { actor: 'system:token' } })),
    );
    this.version = result.nextExpectedVersion;
  }

  activeKey(): ActiveSigningKey {
    const key = activeKey(this.state);
    if (key === null) throw new Error('no active signing key');
    return key;
  }

  jwks(): JwksDocument {
    return jwksDocument(publishedKeys(this.state, new Date()));
  }
}
