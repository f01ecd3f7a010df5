/** Asks for the server's API key once; the server keeps the session in an HttpOnly cookie (the key stays out of the page). */
import { useState } from 'preact/hooks';
import { api, ApiError } from './api.ts';

export function Login({ onLoggedIn }: { onLoggedIn: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      await api.login(key);
      setKey('');
      onLoggedIn();
    } catch (e) {
      setError(e instanceof ApiError && e.status === 403 ? 'That is not the API key.' : 'Could not log in.');
    }
  };
  return (
    <main class="login">
      <h1>Switchboard</h1>
      <form onSubmit={(e) => void submit(e)} data-testid="login">
        <label>
          API key (SWITCHBOARD_API_KEY)
          <input
            type="password"
            name="apiKey"
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
            autocomplete="current-password"
            required
          />
        </label>
        <button type="submit">Log in</button>
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </main>
  );
}
