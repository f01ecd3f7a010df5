/** Where carriers reach this server: `http` for webhooks, `ws` for media sockets (no trailing slash). */
export interface PublicUrls {
  http: string;
  ws: string;
}

export function publicUrlsFrom(httpUrl: string): PublicUrls {
  const http = httpUrl.replace(/\/+$/, '');
  return { http, ws: http.replace(/^http/, 'ws') };
}
