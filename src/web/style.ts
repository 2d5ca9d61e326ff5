/**
 * The activation pages' stylesheet, inlined in every page. The Content-Security-Policy admits
 * exactly this stylesheet by its hash and no script at all.
 */
import { createHash } from 'node:crypto';

export const STYLESHEET = `
:root{--bg:#f5f5f7;--card:#fff;--text:#1d1d1f;--muted:#6e6e73;--line:#e8e8ed;--accent:#0071e3;--accent-hover:#0062c4;
--chip:#e8f1fd;--chip-text:#0a4a96;--ok:#1e8e4a;--ok-bg:#e6f6ec;--warn:#b25000;--warn-bg:#fff1e0;--bad:#c4001a;--bad-bg:#fdeaec;
--neutral-bg:#f0f0f3;--hero-a:#0a7cff;--hero-b:#5b4fe0;--shadow:0 1px 2px rgba(0,0,0,.04),0 16px 48px rgba(0,0,0,.08);color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#000;--card:#1c1c1e;--text:#f5f5f7;--muted:#a1a1a6;--line:#333336;--accent:#0a84ff;
--accent-hover:#3d9bff;--chip:#10294a;--chip-text:#a8cfff;--ok:#32d74b;--ok-bg:#12301b;--warn:#ff9f0a;--warn-bg:#3a2608;--bad:#ff6961;
--bad-bg:#3b1416;--neutral-bg:#2c2c2e;--hero-a:#0a60d6;--hero-b:#4a3cc2;--shadow:none}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;background:var(--bg);color:var(--text);
font:16px/1.5 -apple-system,BlinkMacSystemFont,"SF Pro Text","Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
-webkit-font-smoothing:antialiased}
.top{padding:18px 20px 14px}
.brand{max-width:880px;margin:0 auto;display:flex;align-items:center;gap:10px;font-size:15px;font-weight:600}
.brand .team{min-width:0;overflow:hidden;white-space:nowrap;text-overflow:ellipsis}
.brand .sub{flex:none;color:var(--muted);font-weight:400}
.mark{flex:none;width:30px;height:30px;border-radius:9px;display:grid;place-items:center;color:#fff;
background:linear-gradient(145deg,var(--hero-a),var(--hero-b))}
main{flex:1;display:flex;justify-content:center;align-items:flex-start;padding:4px 14px 28px}
.card{width:100%;min-width:0;max-width:880px;background:var(--card);border-radius:22px;box-shadow:var(--shadow);overflow:hidden}
.invite{display:grid;grid-template-columns:minmax(0,1fr)}
.hero{color:#fff;padding:28px 24px 26px;background:linear-gradient(150deg,var(--hero-a),var(--hero-b))}
.avatar{width:56px;height:56px;border-radius:16px;display:grid;place-items:center;margin-bottom:22px;font-size:21px;font-weight:700;
letter-spacing:.02em;background:rgba(255,255,255,.18);border:1px solid rgba(255,255,255,.32)}
.eyebrow{margin:0 0 6px;font-size:12px;font-weight:600;letter-spacing:.08em;text-transform:uppercase;opacity:.85}
h1{margin:0;font-size:28px;line-height:1.15;letter-spacing:-.015em;overflow-wrap:anywhere;text-wrap:balance}
.hero .lead{margin:14px 0 0;font-size:17px;line-height:1.45;opacity:.95;overflow-wrap:anywhere}
.hero strong{font-weight:600}
.pill{display:inline-flex;align-items:center;gap:7px;margin-top:22px;padding:6px 12px 6px 10px;border-radius:999px;font-size:14px;font-weight:500;
background:rgba(255,255,255,.16);border:1px solid rgba(255,255,255,.28)}
.details{padding:22px 24px 26px}
.facts{margin:0}
.facts>div{display:grid;grid-template-columns:92px 1fr;gap:14px;padding:13px 0;border-bottom:1px solid var(--line)}
.facts>div:first-child{padding-top:2px}
dt{color:var(--muted);font-size:14px;padding-top:2px}
dd{margin:0;min-width:0;overflow-wrap:anywhere}
.chips{display:flex;flex-wrap:wrap;gap:6px;margin:0;padding:0;list-style:none}
.chips li{padding:3px 11px;border-radius:999px;background:var(--chip);color:var(--chip-text);font-size:14px;font-weight:500}
.apps{margin:0;padding:0;list-style:none}
.apps li+li{margin-top:8px}
.apps .id{display:block;color:var(--muted);font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.when{display:block;color:var(--muted);font-size:14px}
.actions{display:flex;flex-direction:column;gap:10px;margin-top:24px}
.actions form{margin:0}
.btn{display:block;width:100%;min-height:50px;padding:13px 24px;border-radius:12px;border:1px solid transparent;
font:inherit;font-size:17px;font-weight:600;line-height:1.4;text-align:center;text-decoration:none;cursor:pointer}
.btn:focus-visible{outline:3px solid var(--accent);outline-offset:3px}
.primary{background:var(--accent);color:#fff}
.primary:hover{background:var(--accent-hover)}
.secondary{background:transparent;color:var(--text);border-color:var(--line)}
.secondary:hover{background:var(--neutral-bg)}
.fine{margin:18px 0 0;color:var(--muted);font-size:14px;line-height:1.5;overflow-wrap:anywhere}
.status{max-width:560px;padding:40px 24px 36px;text-align:center}
.status h1{font-size:26px}
.status .lead{margin:12px auto 0;max-width:430px;color:var(--muted);font-size:17px;overflow-wrap:anywhere;text-wrap:pretty}
.status .facts{margin-top:28px;padding-top:14px;border-top:1px solid var(--line);text-align:left}
.status .facts>div:first-child{padding-top:13px}
.status .facts>div:last-child{border-bottom:0;padding-bottom:0}
.status .actions{align-items:center}
.icon{width:68px;height:68px;margin:0 auto 22px;border-radius:50%;display:grid;place-items:center}
.icon.ok{background:var(--ok-bg);color:var(--ok)}
.icon.warn{background:var(--warn-bg);color:var(--warn)}
.icon.bad{background:var(--bad-bg);color:var(--bad)}
.icon.neutral{background:var(--neutral-bg);color:var(--muted)}
.foot{padding:0 20px 28px;text-align:center;color:var(--muted);font-size:13px}
@media (min-width:600px){
main{align-items:center;padding:12px 32px 48px}
.status{padding:52px 48px 48px}
.actions{flex-direction:row}
.btn{width:auto}
.status .actions{justify-content:center}
}
@media (min-width:820px){
.top{padding:28px 32px 20px}
.invite{grid-template-columns:minmax(0,5fr) minmax(0,7fr)}
.hero{padding:44px 36px;display:flex;flex-direction:column}
.hero .pill{margin-top:auto;align-self:flex-start}
.hero .intro{margin-bottom:32px}
.hero h1{font-size:34px}
.details{padding:40px 44px 40px}
.facts>div{grid-template-columns:110px 1fr}
}
`.trim();

/** `style-src` source for the stylesheet above. */
export const STYLESHEET_HASH = `'sha256-${createHash('sha256').update(STYLESHEET, 'utf8').digest('base64')}'`;

/** No script of any kind; only our own stylesheet; forms post only to this origin; no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'none'",
  `style-src ${STYLESHEET_HASH}`,
  "img-src 'self' data:",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');
