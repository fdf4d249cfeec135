import { eventsOrThrow } from '#lib/decider';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigError, type SigningKeyConfig } from '#lib/config';
import type { EventMetadata } from '#lib/event-store';
import { aggregateStream, type EventStore, isExpectedVersionConflict, type NewEvent } from '#lib/event-store';
import {
  ACCESS_TOKEN_SLOT,
  activeKey,
  activeKeys,
  type ActiveSigningKey,
  decideKeyring,
  evolveKeyring,
  findKey,
  generateKeyMaterial,
  initialKeyringState,
  jwksDocument,
  KeyDecryptionError,
  type KeySlot,
  type JwksDocument,
  planInitialKey,
  planManualRotation,
  publishedKeys,
  rotationDue,
  SIGNING_KEYRING_STREAM,
  Signer,
  type SigningKey,
  type SigningKeyring,
  type SigningAlg,
  type SigningKeyringEvent,
} from '#lib/signing-keys';
import { EVENT_STORE, TOKENS_CONFIG } from '#lib/service-runtime';

const SYSTEM: EventMetadata = { actor: 'system:token' };
/** The JWKS answer re-reads the keyring when its copy is older than this (a key another replica published). */
const JWKS_FRESHNESS_MS = 1000;
const APPEND_ATTEMPTS = 5;

/**
 * The token service's view of the signing keyring (stream `signing-keyring`): makes sure a key is
 * active at start, re-reads the stream every KEYRING_REFRESH_SECONDS and runs the rotation schedule
 * (keys pre-published in the JWKS before they sign), and signs with the active key. Every change is an append with the
 * keyring's expected version, so when replicas race exactly one decision is recorded; the others
 * re-read and find nothing left to do. The access-token key (SIGNING_ALG) is made active at start;
 * an ID-token key of an alg at the first ID token signed with that alg (`idTokenKey`), and from
 * then on rotated on the same schedule.
 */
@Injectable()
export class KeyringService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Keyring');
  private state: SigningKeyring = initialKeyringState();
  private version = 0;
  private loadedAt = 0;
  private loading: Promise<void> | null = null;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly firstIdTokenKeys = new Map<SigningAlg, Promise<void>>();
  readonly signer: Signer;
  /** The time every keyring command is decided at (replaced in tests). */
  clock: () => Date = () => new Date();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(TOKENS_CONFIG) private readonly config: SigningKeyConfig,
  ) {
    this.signer = new Signer(config.keyEncryptionKey, config.previousKeyEncryptionKeys);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureActiveKey();
    this.refreshTimer = setInterval(() => {
      this.tick().catch((err: Error) => this.logger.warn(`keyring refresh failed: ${err.message}`));
    }, this.config.keyringRefreshSeconds * 1000);
    this.refreshTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.refreshTimer);
  }

  /** Re-reads the keyring stream; concurrent callers share one read. */
  refresh(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const { state, version } = await aggregateStream(this.store, SIGNING_KEYRING_STREAM, {
          evolve: evolveKeyring,
          initial: initialKeyringState,
        });
        this.state = state;
        this.version = version;
        this.loadedAt = Date.now();
        this.signer.retainOnly(activeKeys(state).map((k) => k.kid));
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  /** Re-reads the stream with a read that starts now (after this process's last append), not one in flight. */
  private async freshRead(): Promise<void> {
    await this.loading?.catch(() => undefined);
    await this.refresh();
  }

  /** One pass of the schedule: re-read, then generate or activate a successor of each slot when due. */
  async tick(): Promise<void> {
    await this.refresh();
    const slots: KeySlot[] = [ACCESS_TOKEN_SLOT];
    for (const key of activeKeys(this.state))
      if (key.purpose === 'id_token') slots.push({ purpose: 'id_token', alg: key.alg });
    for (const slot of slots) await this.tickSlot(slot);
  }

  private async tickSlot(slot: KeySlot): Promise<void> {
    const now = this.clock();
    const step = rotationDue(this.state, now, {
      rotateEverySeconds: this.config.signingKeyRotationSeconds,
      jwksMaxAgeSeconds: this.config.jwksMaxAgeSeconds,
      publicationLagMs: JWKS_FRESHNESS_MS,
      slot,
    });
    switch (step.action) {
      case 'none':
        return;
      case 'generate': {
        const material = await this.material(slot);
        const events = eventsOrThrow(
          decideKeyring(
            { type: 'GenerateSigningKey', ...material, now, activatesAt: step.activatesAt },
            this.state,
          ),
        );
        if (await this.tryAppend(events, SYSTEM)) {
          this.logger.log(
            `signing key ${material.kid} published; active from ${step.activatesAt.toISOString()}`,
          );
        }
        return;
      }
      case 'activate': {
        const events = eventsOrThrow(decideKeyring(this.activation(step.kid, now), this.state));
        if (await this.tryAppend(events, SYSTEM)) this.logger.log(`signing key ${step.kid} active`);
        return;
      }
      default: {
        const unknown: never = step;
        throw new Error(`unknown rotation step ${JSON.stringify(unknown)}`);
      }
    }
  }

  /**
   * First boot of a slot (the access-token key by default): generate and activate a key; replicas
   * racing here are settled by the store.
   */
  async ensureActiveKey(slot: KeySlot = ACCESS_TOKEN_SLOT): Promise<void> {
    for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
      await this.refresh();
      const now = this.clock();
      const plan = planInitialKey(this.state, now, slot);
      if (plan.action === 'none') break;
      let kid: string;
      try {
        if (plan.action === 'generate-and-activate') {
          const material = await this.material(slot);
          const generated = eventsOrThrow(
            decideKeyring({ type: 'GenerateSigningKey', ...material, now, activatesAt: now }, this.state),
          );
          await this.append(generated, SYSTEM);
          await this.freshRead();
          kid = material.kid;
        } else {
          kid = plan.kid;
        }
        await this.append(eventsOrThrow(decideKeyring(this.activation(kid, now), this.state)), SYSTEM);
        this.logger.log(`signing key ${kid} (${findKey(this.state, kid)?.alg}, ${slot.purpose}) active`);
      } catch (err) {
        if (!isExpectedVersionConflict(err)) throw err;
      }
    }
    await this.freshRead();
    const active = activeKey(this.state, slot);
    if (active === null) throw new Error('no active signing key after start-up');
    try {
      await this.signer.privateKey(active);
    } catch (err) {
      if (!(err instanceof KeyDecryptionError)) throw err;
      throw new ConfigError(
        `KEY_ENCRYPTION_KEY cannot open the active signing key ${active.kid}: it is not the key the ` +
          'signing keys were sealed with. Start the token service with the original KEY_ENCRYPTION_KEY, ' +
          'or set it as KEY_ENCRYPTION_KEY_PREVIOUS beside the new one (docs/signing-keys.md, ' +
          'changing the key-encryption key).',
      );
    }
  }

  /**
   * `keys rotate`: publish a successor of the slot's key (default: the access-token key) that the
   * schedule activates after the pre-publication lead (2 × JWKS max-age), or with `immediate`
   * activate one at once. Re-decided on a version conflict.
   */
  async rotate(
    immediate: boolean,
    metadata: EventMetadata,
    slot: KeySlot = ACCESS_TOKEN_SLOT,
  ): Promise<{ outcome: 'published' | 'already-pending' | 'activated'; key: SigningKey }> {
    for (let attempt = 0; ; attempt++) {
      await this.refresh();
      const now = this.clock();
      const { jwksMaxAgeSeconds } = this.config;
      const plan = planManualRotation(this.state, now, { jwksMaxAgeSeconds, immediate, slot });
      let events: SigningKeyringEvent[];
      let kid: string;
      switch (plan.action) {
        case 'pending':
          return { outcome: 'already-pending', key: findKey(this.state, plan.kid)! };
        case 'activate-now':
          kid = plan.kid;
          events = eventsOrThrow(
            decideKeyring({ ...this.activation(kid, now), skipPrePublication: true }, this.state),
          ) as SigningKeyringEvent[];
          break;
        case 'generate': {
          const material = await this.material(slot);
          kid = material.kid;
          events = eventsOrThrow(
            decideKeyring(
              { type: 'GenerateSigningKey', ...material, now, activatesAt: plan.activatesAt },
              this.state,
            ),
          ) as SigningKeyringEvent[];
          if (plan.activateNow) {
            const published = this.fold(events);
            events = [
              ...events,
              ...(eventsOrThrow(
                decideKeyring(this.activation(kid, now), published),
              ) as SigningKeyringEvent[]),
            ];
          }
          break;
        }
        default: {
          const unknown: never = plan;
          throw new Error(`unknown rotation plan ${JSON.stringify(unknown)}`);
        }
      }
      if (await this.tryAppend(events, metadata)) {
        await this.freshRead();
        const key = findKey(this.state, kid)!;
        this.logger.log(`signing key ${kid} ${key.status} (operator rotation)`);
        return { outcome: key.status === 'active' ? 'activated' : 'published', key };
      }
      if (attempt + 1 >= APPEND_ATTEMPTS) throw new Error('the keyring kept changing; try again');
    }
  }

  /**
   * `keys retire`: a published key is retired and leaves the JWKS now; a retired key is withdrawn
   * from the JWKS now only with `withdraw` (a compromised key: the tokens it signed stop verifying).
   * The active key is never retired here (the service would have nothing to sign with): rotate first.
   */
  async retire(kid: string, withdraw: boolean, metadata: EventMetadata): Promise<SigningKey> {
    for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
      await this.refresh();
      const key = findKey(this.state, kid);
      if (key?.status === 'active')
        throw new KeyRetirementRefused(kid, 'it is the active key: run `keys rotate --now` first');
      if (key?.status === 'retired' && !withdraw) {
        throw new KeyRetirementRefused(kid, 'it is already retired; --withdraw removes it from the JWKS now');
      }
      const now = this.clock();
      const events = eventsOrThrow(
        decideKeyring({ type: 'RetireSigningKey', kid, now, publishUntil: now }, this.state),
      );
      if (await this.tryAppend(events, metadata)) {
        await this.freshRead();
        this.logger.warn(`signing key ${kid} retired and withdrawn from the JWKS (operator)`);
        return findKey(this.state, kid)!;
      }
    }
    throw new Error('the keyring kept changing; try again');
  }

  /** The keyring as last read, refreshed first. */
  async keys(): Promise<{ keys: SigningKey[]; inJwks: Set<string> }> {
    await this.freshRead();
    const inJwks = new Set(publishedKeys(this.state, this.clock()).map((k) => k.kid));
    const keys = Object.values(this.state.keys).sort(
      (a, b) => a.generatedAt.getTime() - b.generatedAt.getTime() || (a.kid < b.kid ? -1 : 1),
    );
    return { keys, inJwks };
  }

  activeKey(): ActiveSigningKey {
    const key = activeKey(this.state);
    if (key === null) throw new Error('no active signing key');
    return key;
  }

  /**
   * The active ID-token key of `alg` (OpenID Connect Core §15.1: RS256 always; ES256 and EdDSA as
   * clients register them), made at its first use: concurrent first uses share one start-up.
   */
  async idTokenKey(alg: SigningAlg): Promise<ActiveSigningKey> {
    const slot: KeySlot = { purpose: 'id_token', alg };
    const held = activeKey(this.state, slot);
    if (held !== null) return held;
    let starting = this.firstIdTokenKeys.get(alg);
    if (starting === undefined) {
      starting = this.ensureActiveKey(slot).finally(() => this.firstIdTokenKeys.delete(alg));
      this.firstIdTokenKeys.set(alg, starting);
    }
    await starting;
    const key = activeKey(this.state, slot);
    if (key === null) throw new Error(`no active ${alg} ID-token key`);
    return key;
  }

  /** RFC 7517 §5; re-read when older than a second, so a key another replica published shows at once. */
  async jwks(): Promise<JwksDocument> {
    if (Date.now() - this.loadedAt > JWKS_FRESHNESS_MS) await this.refresh();
    return jwksDocument(publishedKeys(this.state, this.clock()));
  }

  private activation(kid: string, now: Date) {
    const idTokens = findKey(this.state, kid)?.purpose === 'id_token';
    return {
      type: 'ActivateSigningKey' as const,
      kid,
      now,
      // The key being retired stays published until its last token has expired.
      longestTokenLifetimeSeconds: idTokens
        ? this.config.idTokenTtlSeconds + this.config.keyringRefreshSeconds
        : this.config.signingKeyRetentionSeconds,
    };
  }

  private async material(slot: KeySlot) {
    const alg = slot.purpose === 'id_token' ? slot.alg : this.config.signingAlg;
    const material = await generateKeyMaterial(alg, this.config.keyEncryptionKey);
    return slot.purpose === 'id_token' ? { ...material, purpose: 'id_token' as const } : material;
  }

  private fold(events: SigningKeyringEvent[]): SigningKeyring {
    let state = this.state;
    let version = this.version;
    for (const e of events) {
      version += 1;
      state = evolveKeyring(state, {
        eventId: '',
        globalPosition: 0,
        streamId: SIGNING_KEYRING_STREAM,
        streamVersion: version,
        type: e.type,
        schemaVersion: e.schemaVersion ?? 1,
        data: e.data,
        metadata: {},
        recordedAt: new Date(0),
      });
    }
    return state;
  }

  /** Appends at the version last read; false when another writer got there first. */
  private async tryAppend(events: NewEvent[], metadata: EventMetadata): Promise<boolean> {
    try {
      await this.append(events, metadata);
      return true;
    } catch (err) {
      if (isExpectedVersionConflict(err)) return false;
      throw err;
    }
  }

  private async append(events: NewEvent[], metadata: EventMetadata): Promise<void> {
    const result = await this.store.appendToStream(
      SIGNING_KEYRING_STREAM,
      this.version,
      events.map((e) => ({ ...e, metadata })),
    );
    this.version = result.nextExpectedVersion;
  }
}

/** `keys retire` refused before deciding anything. */
export class KeyRetirementRefused extends Error {
  constructor(
    readonly kid: string,
    reason: string,
  ) {
    super(`signing key ${kid} cannot be retired: ${reason}`);
    this.name = 'KeyRetirementRefused';
  }
}
