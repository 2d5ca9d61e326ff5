/**
 * The activation pages' template engine: Eta with autoEscape (every `<%= %>` is HTML-escaped), its
 * templates read from templates/activation/ at the package's top level. The path is taken relative
 * to this module, which sits two levels below the top in both src/ and dist/, so the built server
 * and the tests find the same files; the package ships that directory.
 */
import { fileURLToPath } from 'node:url';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyInstance } from 'fastify';
import type { Page } from './pages.js';

export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/activation/', import.meta.url));

const eta = new Eta({ views: TEMPLATES_DIR, autoEscape: true, cache: true });

/** Registers @fastify/view on the pages' plugin: `reply.viewAsync(page.template, page.data)`. */
export async function registerViews(app: FastifyInstance): Promise<void> {
  // production: templates are read once and kept (they ship with the package and do not change)
  await app.register(fastifyView, { engine: { eta }, root: TEMPLATES_DIR, production: true });
}

/** A page's HTML outside a request (tests, tools): the same engine and templates. */
export function renderPage(page: Page): string {
  return eta.render(page.template, page.data);
}
