import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, authConfig, getToken, onUnauthorized, setCsrfToken, setToken, settled, signOutSession, type AuthConfig, type Me } from './api.ts';
import { PAGE_PERMISSION } from './forbidden.ts';
import { can, canIn, SOLO_ROLES, type Role } from './roles.ts';
import { href, navigate, useRoute, type Route } from './router.ts';
import { ErrorBox, Loading } from './ui.tsx';
import { AdminView } from './views/Admin.tsx';
import { DashboardView } from './views/Dashboard.tsx';
import { LabelView } from './views/Label.tsx';
import { MapView } from './views/MapView.tsx';
import { Forbidden } from './views/Forbidden.tsx';
import { Projects } from './views/Projects.tsx';
import { ReviewView } from './views/Review.tsx';
import { SignIn } from './views/SignIn.tsx';

/**
 * The shell: who is signed in, the project navigation (by role), and the current page.
 * `linkToken`: the token of the sign-in link the page was opened with (already taken out of the
 * address by main.tsx): it signs in, replacing any session this tab had. Without a token, the
 * page asks the server whether this browser is signed in by a session cookie (a sign-in with
 * the organisation's provider).
 */
export function App(props: { linkToken?: string | null }) {
  const route = useRoute();
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [linkError, setLinkError] = useState<string | null>(null);
  const [checking, setChecking] = useState(true);
  const [config, setConfig] = useState<AuthConfig | undefined>(undefined);
  const [signingOut, setSigningOut] = useState(false);

  // biome-ignore lint/correctness/useExhaustiveDependencies: once, for the page load
  useEffect(() => {
    const link = props.linkToken;
    const token = link || getToken();
    void (async () => {
      if (!token) {
        // No token: signed in only if this browser holds a session cookie (a sign-in with the provider).
        const cfg = await authConfig().catch((): AuthConfig => ({ oidc: null, sessionCookie: false }));
        setConfig(cfg);
        if (!cfg.sessionCookie) return setChecking(false);
      }
      try {
        const m = await api<Me>('GET', '/api/me', undefined, token);
        if (link) setToken(link);
        setCsrfToken(m.auth?.via === 'session' ? m.auth.csrfToken : null);
        setMe(m);
      } catch (e) {
        if (link) setLinkError(e instanceof ApiError && e.status === 401 ? 'This sign-in link is not valid (wrong, or revoked): ask your admin for a new one.' : (e as Error).message);
        else if (token || !(e instanceof ApiError && e.status === 401)) setError(e);
      }
      setChecking(false);
    })();
    // Once, for the page load: a later sign-in goes through the form.
  }, []);
  useEffect(
    () =>
      onUnauthorized(() => {
        setToken(null);
        setCsrfToken(null);
        setMe(null);
      }),
    [],
  );
  const refreshMe = useCallback(async () => {
    const m = await api<Me>('GET', '/api/me');
    if (m.auth?.via === 'session') setCsrfToken(m.auth.csrfToken);
    setMe(m);
  }, []);
  const solo = useSoloLabelling(me, route);

  // Signing out: the page is left first (a labelling view sends its pending answer and gives back
  // its preloaded tasks), those requests finish under the current sign-in, then it ends.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when signing out starts, with the sign-in as it is then
  useEffect(() => {
    if (!signingOut) return;
    void (async () => {
      await settled();
      if (me?.auth?.via === 'session') await signOutSession();
      setToken(null);
      setCsrfToken(null);
      setMe(null);
      setSigningOut(false);
      navigate('#/');
    })();
  }, [signingOut]);

  if (checking) return <Loading what={props.linkToken ? 'your sign-in link' : undefined} />;
  if (signingOut)
    return (
      <div className="loading" data-signing-out="">
        Signing out…
      </div>
    );
  if (!me) {
    return (
      <main className="page">
        {error ? <ErrorBox error={error} /> : null}
        {linkError ? (
          <div className="error" role="alert" data-link-error="">
            {linkError}
          </div>
        ) : null}
        <SignIn
          config={config}
          onSignedIn={(m) => {
            setMe(m);
            setError(null);
            setLinkError(null);
            if (route.page === 'signin') navigate('#/');
          }}
        />
      </main>
    );
  }

  const project = 'project' in route ? route.project : null;
  const role: Role | null = project ? (me.memberships.find((m) => m.project === project)?.role ?? null) : null;
  // Admins and managers label too where the project's solo labelling is on (not blind).
  const mayLabel = canIn(role, 'task.annotate', { soloLabelling: solo.project === project && solo.on });
  const signOut = () => setSigningOut(true);

  let page;
  if (route.page === 'projects' || route.page === 'signin') page = <Projects me={me} onChanged={refreshMe} />;
  else if (!role) page = <div className="card">You are not a member of project “{project}”.</div>;
  // The labelling view says itself who labels (the rule may depend on the project's settings).
  else if (route.page !== 'label' && !can(role, PAGE_PERMISSION[route.page])) page = <Forbidden project={route.project} role={role} page={route.page} />;
  else if (route.page === 'label') page = <LabelView project={route.project} role={role} mayLabel={mayLabel} query={route.query} />;
  else if (route.page === 'review') page = <ReviewView project={route.project} role={role} />;
  else if (route.page === 'map') page = <MapView project={route.project} role={role} query={route.query} />;
  else if (route.page === 'admin') page = <AdminView project={route.project} role={role} sub={route.sub} me={me} onMembershipsChanged={refreshMe} />;
  else page = <DashboardView project={route.project} role={role} />;

  const link = (p: string | undefined, name: string, show: boolean) =>
    show ? (
      <a href={href(project!, p)} className={(route.page === (p ?? 'dashboard') ? 'active' : '') + ' nav-link'} data-nav={p ?? 'dashboard'}>
        {name}
      </a>
    ) : null;

  return (
    <>
      <header className="topbar">
        <a href="#/" className="brand">
          Tessera
        </a>
        {project && role ? (
          <nav aria-label="project">
            <span className="project-name">{project}</span>
            {link(undefined, 'Dashboard', can(role, 'results.read'))}
            {link('label', 'Label', mayLabel)}
            {link('review', 'Review', can(role, 'review.read'))}
            {link('map', 'Map', can(role, 'items.read'))}
            {link('admin', 'Admin', can(role, 'members.read'))}
          </nav>
        ) : null}
        <span className="spacer" />
        <span className="who" data-user={me.user.name}>
          {me.user.displayName}
          {role ? <span className="badge">{role}</span> : null}
          {me.user.admin ? (
            <span className="badge" title="instance admin: may create projects and users" data-instance-admin="">
              instance admin
            </span>
          ) : null}
        </span>
        <button type="button" onClick={signOut} data-sign-out="">
          sign out
        </button>
      </header>
      <main className="page" key={`${route.page}/${project}`}>
        {page}
      </main>
    </>
  );
}

/**
 * Whether the project of the current page has solo labelling on, for the roles it concerns (an
 * admin or manager there): read from its settings on every page change, so turning it on in the
 * settings shows the labelling view at the next page.
 */
function useSoloLabelling(me: Me | null, route: Route): { project: string | null; on: boolean } {
  const project = 'project' in route ? route.project : null;
  const role = project && me ? (me.memberships.find((m) => m.project === project)?.role ?? null) : null;
  const concerned = role !== null && SOLO_ROLES.includes(role);
  const [state, setState] = useState<{ project: string | null; on: boolean }>({ project: null, on: false });
  // biome-ignore lint/correctness/useExhaustiveDependencies: route.page re-reads the setting on every page change
  useEffect(() => {
    if (!concerned || !project) return;
    let live = true;
    api<{ soloLabelling?: boolean }>('GET', `/api/projects/${encodeURIComponent(project)}/settings`).then(
      (s) => live && setState({ project, on: s.soloLabelling === true }),
      () => live && setState({ project, on: false }),
    );
    return () => {
      live = false;
    };
  }, [concerned, project, route.page]);
  return concerned ? state : { project, on: false };
}
