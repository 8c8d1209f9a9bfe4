import { useEffect, useState } from 'react';
import { api, getToken, onUnauthorized, setToken, type Me } from './api.ts';
import { can, type Role } from './roles.ts';
import { href, navigate, useRoute } from './router.ts';
import { ErrorBox, Loading } from './ui.tsx';
import { AdminView } from './views/Admin.tsx';
import { DashboardView } from './views/Dashboard.tsx';
import { LabelView } from './views/Label.tsx';
import { MapView } from './views/MapView.tsx';
import { Projects } from './views/Projects.tsx';
import { ReviewView } from './views/Review.tsx';
import { SignIn } from './views/SignIn.tsx';

/** The shell: who is signed in, the project navigation (by role), and the current page. */
export function App() {
  const route = useRoute();
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [checking, setChecking] = useState(() => getToken() !== null);

  useEffect(() => {
    if (!getToken()) return;
    api<Me>('GET', '/api/me').then(
      (m) => {
        setMe(m);
        setChecking(false);
      },
      (e) => {
        setError(e);
        setChecking(false);
      },
    );
  }, []);
  useEffect(
    () =>
      onUnauthorized(() => {
        setToken(null);
        setMe(null);
      }),
    [],
  );

  if (checking) return <Loading />;
  if (!me) {
    return (
      <main className="page">
        {error ? <ErrorBox error={error} /> : null}
        <SignIn
          onSignedIn={(m) => {
            setMe(m);
            setError(null);
            if (route.page === 'signin') navigate('#/');
          }}
        />
      </main>
    );
  }

  const project = 'project' in route ? route.project : null;
  const role: Role | null = project ? (me.memberships.find((m) => m.project === project)?.role ?? null) : null;
  const signOut = () => {
    setToken(null);
    setMe(null);
    navigate('#/');
  };

  let page;
  if (route.page === 'projects' || route.page === 'signin') page = <Projects me={me} />;
  else if (!role) page = <div className="card">You are not a member of project “{project}”.</div>;
  else if (route.page === 'label') page = <LabelView project={route.project} role={role} query={route.query} />;
  else if (route.page === 'review') page = <ReviewView project={route.project} role={role} />;
  else if (route.page === 'map') page = <MapView project={route.project} role={role} query={route.query} />;
  else if (route.page === 'admin') page = <AdminView project={route.project} role={role} sub={route.sub} />;
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
            {link('label', 'Label', can(role, 'task.annotate'))}
            {link('review', 'Review', can(role, 'review.read'))}
            {link('map', 'Map', can(role, 'items.read'))}
            {link('admin', 'Admin', can(role, 'members.read'))}
          </nav>
        ) : null}
        <span className="spacer" />
        <span className="who" data-user={me.user.name}>
          {me.user.displayName}
          {role ? <span className="badge">{role}</span> : null}
        </span>
        <button type="button" onClick={signOut}>
          sign out
        </button>
      </header>
      <main className="page" key={`${route.page}/${project}`}>
        {page}
      </main>
    </>
  );
}
