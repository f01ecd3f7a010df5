/** The dashboard app: log in when the server has an API key, then the call list or one call. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type DashboardConfig, type Session } from './api.ts';
import { CallList } from './CallList.tsx';
import { CallPage } from './CallPage.tsx';
import { Login } from './Login.tsx';
import { PlaceCall } from './PlaceCall.tsx';
import { onLinkClick, useRoute } from './router.ts';
import './styles.css';

function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session | null>(null);
  const [config, setConfig] = useState<DashboardConfig | null>(null);
  const [failed, setFailed] = useState(false);

  const load = async () => {
    try {
      const current = await api.session();
      setSession(current);
      if (current.authenticated) setConfig(await api.config());
    } catch {
      setFailed(true);
    }
  };
  useEffect(() => {
    void load();
  }, []);

  if (failed) return <p class="error">The server could not be reached.</p>;
  if (!session) return null;
  if (!session.authenticated) return <Login onLoggedIn={() => void load()} />;
  const logout = async () => {
    await api.logout();
    setConfig(null);
    await load();
  };
  return (
    <>
      <nav class="top">
        <a href="/dashboard/" onClick={onLinkClick({ page: 'calls' })} class="brand">
          Switchboard
        </a>
        {config?.sandbox ? <span class="badge sandbox">sandbox</span> : null}
        {session.authRequired ? (
          <button type="button" class="link" onClick={() => void logout()}>
            Log out
          </button>
        ) : null}
      </nav>
      {route.page === 'call' ? (
        <CallPage key={route.id} id={route.id} />
      ) : (
        <main>
          {config ? <PlaceCall config={config} /> : null}
          <CallList />
        </main>
      )}
    </>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
