/** Path routing under /dashboard with the History API (the server answers every such path with the app). */
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/dashboard';

export type Route = { page: 'calls' } | { page: 'call'; id: string };

export function parseRoute(pathname: string): Route {
  const match = /^\/dashboard\/calls\/([A-Za-z0-9_-]{1,64})\/?$/.exec(pathname);
  return match ? { page: 'call', id: match[1] as string } : { page: 'calls' };
}

export function hrefOf(route: Route): string {
  return route.page === 'call' ? `${BASE}/calls/${route.id}` : `${BASE}/`;
}

export function navigate(route: Route): void {
  history.pushState(null, '', hrefOf(route));
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const onPop = () => setRoute(parseRoute(location.pathname));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  return route;
}

/** A link that navigates inside the app (a normal link for new tabs and modified clicks). */
export function onLinkClick(route: Route) {
  return (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(route);
  };
}
