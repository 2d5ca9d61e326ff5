/**
 * The pages' icon: a small SVG (the team badge's people on the pages' blue), inlined in every page
 * as a data: URI (`<link rel="icon">`, admitted by the CSP's `img-src data:`) and served at
 * /favicon.ico for the browsers and tools that ask there whatever the page says.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#0a7cff"/>' +
  '<g fill="none" stroke="#fff" stroke-width="2.4" stroke-linecap="round"><circle cx="12.5" cy="12" r="3.6"/>' +
  '<path d="M6.5 24c.8-3.8 3.2-6 6-6s5.2 2.2 6 6"/><circle cx="21.5" cy="13" r="2.7"/><path d="M21 18.6c2.4.2 4.2 2 4.7 4.8"/></g></svg>';

/** For `<link rel="icon" href="...">`. */
export const FAVICON_DATA_URI = `data:image/svg+xml,${encodeURIComponent(FAVICON_SVG)}`;

/** GET /favicon.ico */
export async function faviconRoute(_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  return reply
    .code(200)
    .headers({ 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=86400', 'x-content-type-options': 'nosniff' })
    .send(FAVICON_SVG);
}
