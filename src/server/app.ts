import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import cookie from '@fastify/cookie';
import type { Store } from '../store/db.ts';
import { registerAuth } from './auth.ts';
import type { AuthLimitOptions } from './auth-limit.ts';
import { frameworkErrors, registerErrors } from './errors.ts';
import { checkRouteSchemas, isNoBody, loggerOptions, rejectNonFiniteNumbers, rejectTraversal, securityHeaders, trustProxyFromEnv, BODY_LIMIT } from './security.ts';
import { auditRoutes } from './routes/audit.ts';
import { curationRoutes } from './routes/curation.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { exportRoutes } from './routes/export.ts';
import { goldRoutes } from './routes/gold.ts';
import { itemRoutes } from './routes/items.ts';
import { mapRoutes } from './routes/map.ts';
import { memberRoutes } from './routes/members.ts';
import { projectRoutes } from './routes/projects.ts';
import { resultRoutes } from './routes/results.ts';
import { reviewRoutes } from './routes/reviews.ts';
import { taskRoutes } from './routes/tasks.ts';
import { taxonomyRoutes } from './routes/taxonomy.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { workbenchRoutes } from './routes/workbench.ts';
import { importRoutes } from './routes/imports.ts';
import { annotationImportRoutes } from './routes/annotation-imports.ts';
import { setupRoutes } from './routes/setup.ts';
import { userRoutes } from './routes/users.ts';
import { DOCS_CSP, registerWeb } from './web.ts';
import { registerOidcRoutes } from './oidc/routes.ts';
import { oidcSettings, oidcSettingsFromEnv, type OidcOptions } from './oidc/settings.ts';
import { WebhookDispatcher, type DispatcherOptions } from './webhook-dispatcher.ts';
import { takeQueuedDeliveries } from '../label/webhooks.ts';

export interface AppOptions {
  store: Store;
  logger?: FastifyServerOptions['logger'];
  webhooks?: DispatcherOptions;
  /** The browser UI (built into dist/web by `npm install`): its folder, or false for the API only. */
  web?: { dir?: string } | false;
  /** Limits on failed authentications (default per minute: 10 per token key and address, 50 per token key, 100 per address; shared through the store; see auth-limit.ts). */
  authLimit?: AuthLimitOptions;
  /**
   * Which proxies to trust for the client address (X-Forwarded-For), as Fastify's `trustProxy`:
   * default TESSERA_TRUST_PROXY (`true`, a hop count, or comma-separated addresses/CIDRs), else none.
   */
  trustProxy?: boolean | string | string[] | number;
  /**
   * Sign-in with OpenID Connect (docs/sign-in.md): the provider and how its claims map, or false
   * for none; default from the TESSERA_OIDC_* variables (none when TESSERA_OIDC_ISSUER is unset).
   */
  oidc?: OidcOptions | false;
}

/** The route plugins, each with its schemas beside its routes. */
export const ROUTE_PLUGINS = [projectRoutes, memberRoutes, taxonomyRoutes, taskRoutes, itemRoutes, resultRoutes, reviewRoutes, goldRoutes, curationRoutes, exportRoutes, auditRoutes, webhookRoutes, dashboardRoutes, mapRoutes, workbenchRoutes, setupRoutes, userRoutes, importRoutes, annotationImportRoutes];

/**
 * The REST API: every route under /api/, validated against its JSON schema, authorised by role
 * (see auth.ts), documented at /docs (OpenAPI 3). State lives in the store only; the webhook
 * dispatcher belongs to this instance and stops with it.
 */
declare module 'fastify' {
  interface FastifyInstance {
    /** Sends queued webhook deliveries while this instance runs. */
    dispatcher: WebhookDispatcher;
    /** Every /api/ route with the permission it requires (the role-matrix test walks this). */
    apiRoutes: Array<{ method: string; url: string; permission: string; schema?: unknown }>;
    /** Every route outside /api/ (the UI, its assets, the OpenAPI docs): served without a token. */
    publicRoutes: Array<{ method: string; url: string }>;
  }
}

type Validate = ((data: unknown) => unknown) & { errors?: unknown };
type BuildValidator = (externalSchemas: unknown, options: unknown) => (route: unknown) => Validate;

/**
 * Fastify's own validator compiler (@fastify/ajv-compiler, with the `ajv` options below), but
 * each route's schemas are compiled on the route's first request instead of at start-up: ajv's
 * code generation for every route took ~0.6 s of each `tessera serve` start here (so a server
 * restarted after a crash answers that much sooner). Same compiler and errors. Path parameters
 * and query strings arrive as text and are coerced to the schema's scalar types; a JSON body
 * arrives typed and is taken as sent — coercing it turned `"labels": "x"` into `["x"]` and a
 * `null` priority or confidence into 0.
 */
function lazyValidators(): BuildValidator {
  const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
  const selector = (fromFastify('@fastify/ajv-compiler') as () => BuildValidator)();
  return (externalSchemas, options) => {
    const compile = selector(externalSchemas, options);
    const o = options as { customOptions?: Record<string, unknown> };
    const compileBody = selector(externalSchemas, { ...o, customOptions: { ...o.customOptions, coerceTypes: false } });
    return (route) => {
      let validate: Validate | undefined;
      const lazy: Validate = function (this: unknown, data: unknown) {
        validate ??= ((route as { httpPart?: string }).httpPart === 'body' ? compileBody : compile)(route);
        const ok = validate.call(this, data);
        lazy.errors = validate.errors;
        return ok;
      };
      return lazy;
    };
  };
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  // Bad settings stop the start, naming the variable or option.
  const oidc = opts.oidc === false ? null : opts.oidc ? oidcSettings(opts.oidc) : oidcSettingsFromEnv();
  const app = Fastify({
    schemaController: { compilersFactory: { buildValidator: lazyValidators() as never } },
    logger: loggerOptions(opts.logger ?? false),
    // 1 MiB unless a route says more (the bulk routes: suggestions, priorities, gold, taxonomy).
    bodyLimit: BODY_LIMIT,
    // A hop count is supported at run time (Fastify's types omit it).
    trustProxy: (opts.trustProxy ?? trustProxyFromEnv()) as boolean | string | string[],
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false } },
    // Router-level failures (over-long path parameter, bad URL) in the API's error shape, with the security headers.
    frameworkErrors,
  });
  securityHeaders(app);
  rejectTraversal(app);
  const dispatcher = new WebhookDispatcher(opts.store, { log: (m) => app.log.warn(m), ...opts.webhooks });
  app.decorate('dispatcher', dispatcher);
  app.decorate('apiRoutes', [] as Array<{ method: string; url: string; permission: string; schema?: unknown }>);
  app.decorate('publicRoutes', [] as Array<{ method: string; url: string }>);
  app.addHook('onRoute', (r) => {
    if (!r.url.startsWith('/api/')) {
      for (const m of [r.method].flat()) if (m !== 'HEAD') app.publicRoutes.push({ method: m, url: r.url });
      return;
    }
    // Strict input: params, querystring and (for writes) body schemas, every object closed.
    checkRouteSchemas(r);
    for (const m of [r.method].flat()) if (m !== 'HEAD') app.apiRoutes.push({ method: m, url: r.url, permission: String(r.config?.permission), schema: r.schema });
  });
  // A route that takes no body accepts none at all, or `{}`.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && isNoBody(req.routeOptions.schema?.body)) req.body = {};
  });
  rejectNonFiniteNumbers(app);
  registerErrors(app);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Tessera API', version: '0.1.0', description: 'Governed labelling: taxonomies, roles, blind overlap, review, consensus, agreement, audit log.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token (`tessera users add` / `tessera users token`)' } } },
      security: [{ bearer: [] }],
    },
  });
  // Parses cookies (the sign-in session's) before the authentication hook below reads them.
  await app.register(cookie);
  registerAuth(app, opts.store, opts.authLimit);
  registerOidcRoutes(app, opts.store, oidc);
  for (const plugin of ROUTE_PLUGINS) await app.register(plugin, { store: opts.store });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { validatorUrl: null } as never, staticCSP: DOCS_CSP });
  if (opts.web !== false) registerWeb(app, opts.web ?? {});
  // A change queued webhook deliveries: send them now rather than at the next poll.
  app.addHook('onResponse', async () => {
    if (takeQueuedDeliveries(opts.store)) dispatcher.kick();
  });
  app.addHook('onReady', async () => dispatcher.start());
  app.addHook('onClose', async () => dispatcher.stop());
  return app;
}
