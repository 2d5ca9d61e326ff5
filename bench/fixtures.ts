/**
 * Realistic, reproducible fake data for the benchmark: names (some with accents, apostrophes or
 * non-Latin scripts), email addresses built from them, apps, and role sets in plausible shares.
 * Everything comes from a seeded generator, so two runs of the same size seed the same people.
 */
import type { UserRole } from '../src/domain/roles.js';

/** A small, fast, seedable generator (xorshift32); good enough for fake data, not for secrets. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** A float in [0, 1). */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** `count` distinct items, in random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(count, items.length)) chosen.add(Math.floor(this.next() * items.length));
    return [...chosen].map((i) => items[i]!);
  }

  /** Picks by weight: `[[value, weight], ...]`. */
  weighted<T>(table: readonly (readonly [T, number])[]): T {
    const total = table.reduce((sum, [, w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [value, w] of table) {
      r -= w;
      if (r < 0) return value;
    }
    return table[table.length - 1]![0];
  }
}

export const FIRST_NAMES: readonly string[] = [
  'Emma',
  'Liam',
  'Olivia',
  'Noah',
  'Ava',
  'Lucas',
  'Sofia',
  'Mateo',
  'Mia',
  'Ethan',
  'Isabella',
  'Leon',
  'Charlotte',
  'Hugo',
  'Amelia',
  'Elias',
  'Harper',
  'Louis',
  'Evelyn',
  'Jonas',
  'Chloé',
  'José',
  'Zoë',
  'Björn',
  'Ingrid',
  'Søren',
  'Małgorzata',
  'Łukasz',
  'François',
  'Anaïs',
  'Renée',
  'Jürgen',
  'Ömer',
  'Ayşe',
  'Nikolai',
  'Dmitri',
  'Anastasia',
  'Priya',
  'Arjun',
  'Ananya',
  'Rohan',
  'Wei',
  'Mei',
  'Hiroshi',
  'Yuki',
  'Haruto',
  'Sakura',
  'Min-jun',
  'Seo-yeon',
  'Thanh',
  'Linh',
  'Kwame',
  'Amara',
  'Chidi',
  'Fatima',
  'Omar',
  'Layla',
  'Yusuf',
  'Aisha',
  'Santiago',
  'Valentina',
  'Camila',
  'Diego',
  'Lucía',
  'Joaquín',
  'Mary-Kate',
  'Jean-Luc',
  'Siobhán',
  'Niamh',
  'Ciarán',
  'Aoife',
  'Freya',
  'Astrid',
  'Lars',
  'Pieter',
  'Femke',
  'Daan',
  'Giulia',
  'Matteo',
  'Chiara',
  'Alessandro',
  'Eleni',
  'Nikos',
  'Tomás',
  'Inês',
  'João',
  'Ana',
  'David',
  'Sarah',
  'Michael',
  'Jennifer',
  'James',
  'Patricia',
  'Robert',
  'Linda',
  'William',
  'Elizabeth',
  'Daniel',
  'Susan',
  '美咲',
  '陽翔',
  'Владимир',
  'Ольга',
];

export const LAST_NAMES: readonly string[] = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernández',
  'López',
  'González',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Pérez',
  'Thompson',
  'White',
  'Harris',
  'Sánchez',
  'Clark',
  'Ramírez',
  'Lewis',
  'Robinson',
  "O'Brien",
  "O'Connor",
  'McDonald',
  'MacLeod',
  'Müller',
  'Schmidt',
  'Schneider',
  'Fischer',
  'Weber',
  'Meyer',
  'Wagner',
  'Becker',
  'Schäfer',
  'Koch',
  'Dubois',
  'Lefèvre',
  'Moreau',
  'Laurent',
  'Girard',
  'Rossi',
  'Russo',
  'Ferrari',
  'Esposito',
  'Bianchi',
  'Romano',
  'Kowalski',
  'Wiśniewski',
  'Nowak',
  'Novák',
  'Dvořák',
  'Svensson',
  'Johansson',
  'Andersen',
  'Nielsen',
  'Jensen',
  'Hansen',
  'de Vries',
  'van der Berg',
  'van Dijk',
  'Bakker',
  'Silva',
  'Santos',
  'Oliveira',
  'Pereira',
  'Costa',
  'Ivanov',
  'Petrova',
  'Sokolov',
  'Yılmaz',
  'Kaya',
  'Demir',
  'Sharma',
  'Patel',
  'Singh',
  'Kumar',
  'Gupta',
  'Wang',
  'Li',
  'Zhang',
  'Liu',
  'Chen',
  'Tanaka',
  'Suzuki',
  'Takahashi',
  'Watanabe',
  'Kim',
  'Park',
  'Choi',
  'Nguyen',
  'Tran',
  'Okafor',
  'Mensah',
  'Haddad',
  'Khalil',
  'Cohen',
  'Levi',
  'Smith-Jones',
  'St. John',
  '佐藤',
  '高橋',
  'Иванова',
  'Смирнов',
];

const DOMAINS: readonly (readonly [string, number])[] = [
  ['example.com', 30],
  ['example.org', 10],
  ['example.net', 10],
  ['mail.example.com', 8],
  ['studio.example', 8],
  ['apps.example.co.uk', 6],
  ['dev.example.de', 6],
  ['example.jp', 5],
  ['contractors.example.io', 5],
  ['qa.example.fr', 4],
];

/** Role sets as teams hand them out; all satisfy Apple's rules (domain/access.ts checks each). */
export const ROLE_SETS: readonly (readonly [readonly UserRole[], number])[] = [
  [['DEVELOPER'], 30],
  [['APP_MANAGER'], 10],
  [['MARKETING'], 7],
  [['SALES'], 4],
  [['CUSTOMER_SUPPORT'], 7],
  [['DEVELOPER', 'MARKETING'], 6],
  [['DEVELOPER', 'ACCESS_TO_REPORTS'], 6],
  [['APP_MANAGER', 'CREATE_APPS'], 4],
  [['DEVELOPER', 'CLOUD_MANAGED_APP_DISTRIBUTION'], 2],
  [['ADMIN'], 8],
  [['ADMIN', 'CLOUD_MANAGED_DEVELOPER_ID'], 2],
  [['FINANCE'], 5],
  [['SALES', 'MARKETING', 'CUSTOMER_SUPPORT'], 3],
  [['APP_MANAGER', 'GENERATE_INDIVIDUAL_KEYS'], 2],
];

const asciiCache = new Map<string, string>();

/** The ASCII letters of a name for an email local part ('' for names without any). */
export function asciiPart(name: string): string {
  let ascii = asciiCache.get(name);
  if (ascii === undefined) {
    ascii = toAscii(name);
    asciiCache.set(name, ascii);
  }
  return ascii;
}

function toAscii(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[łŁ]/g, 'l')
    .replace(/[øØ]/g, 'o')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

function capitalize(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1);
}

/**
 * An address for person `n` (unique through the base-36 suffix). About one in ten keeps capital
 * letters, one in twenty uses a `+tag`, so lower-casing and `+` handling are exercised.
 */
export function emailFor(rng: Random, first: string, last: string, n: number): string {
  const f = asciiPart(first) || 'user';
  const l = asciiPart(last) || 'member';
  const suffix = n.toString(36);
  const shape = rng.int(0, 9);
  let local =
    shape < 4 ? `${f}.${l}.${suffix}` : shape < 6 ? `${f[0]}${l}${suffix}` : shape < 8 ? `${f}_${l}_${suffix}` : `${l}.${f}${suffix}`;
  if (rng.next() < 0.05) local = `${f}.${l}+asc${suffix}`;
  let domain = rng.weighted(DOMAINS);
  if (rng.next() < 0.1) {
    local = local.split('.').map(capitalize).join('.');
    domain = domain.split('.').map(capitalize).join('.');
  }
  return `${local}@${domain}`;
}

const APP_WORDS_A = [
  'Pocket',
  'Bright',
  'Swift',
  'Quiet',
  'Daily',
  'Tiny',
  'Cloud',
  'Pixel',
  'Lunar',
  'Urban',
  'Happy',
  'Smart',
  'Green',
  'Blue',
  'Zen',
];
const APP_WORDS_B = [
  'Ledger',
  'Notes',
  'Fitness',
  'Recipes',
  'Weather',
  'Maps',
  'Budget',
  'Habits',
  'Photos',
  'Music',
  'Chess',
  'Garden',
  'Reader',
  'Tasks',
  'Radio',
];
const LOCALES = ['en-US', 'en-US', 'en-US', 'en-GB', 'de-DE', 'fr-FR', 'ja', 'es-ES', 'pt-BR', 'it'];

export interface FakeApp {
  id: string;
  name: string;
  bundleId: string;
  sku: string;
  primaryLocale: string;
}

/** `count` apps with distinct 10-digit numeric ids, bundle ids and SKUs. */
export function fakeApps(rng: Random, count: number): FakeApp[] {
  const ids = new Set<string>();
  while (ids.size < count) ids.add(String(rng.int(1_000_000_000, 9_999_999_999)));
  return [...ids].map((id, i) => {
    const base = `${APP_WORDS_A[i % APP_WORDS_A.length]} ${APP_WORDS_B[Math.floor(i / APP_WORDS_A.length) % APP_WORDS_B.length]}`;
    const edition = Math.floor(i / (APP_WORDS_A.length * APP_WORDS_B.length));
    const name = edition === 0 ? base : `${base} ${edition + 1}`;
    const slug = name.toLowerCase().replace(/[^a-z0-9]/g, '');
    return {
      id,
      name,
      bundleId: `com.example.${slug}.${i}`,
      sku: `SKU-${String(i + 1).padStart(4, '0')}`,
      primaryLocale: rng.pick(LOCALES),
    };
  });
}
