/** The web app's one stylesheet, served at /assets/app.css (a string: edge bundles have no files). */
export const STYLESHEET = `
:root {
  --bg: #f6f7f9; --panel: #fff; --ink: #1d232b; --muted: #5b6673; --line: #dde2e8;
  --accent: #2f6df6; --accent-ink: #fff; --danger: #c62f3b; --ok: #1f8a4c; --radius: 10px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
  color: var(--ink); background: var(--bg); line-height: 1.45;
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #8fb0ff; outline-offset: 2px; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .75rem 1.25rem;
  background: #121821; color: #fff; }
.brand { color: #fff; font-weight: 700; font-size: 1.2rem; text-decoration: none; letter-spacing: .02em; }
.brand span { color: #8fb0ff; }
.top nav { display: flex; flex-wrap: wrap; align-items: center; gap: .25rem 1rem; flex: 1; }
.top nav a { color: #d7deea; text-decoration: none; padding: .25rem 0; }
.top nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #8fb0ff; }
.top .who { margin-left: auto; color: #9aa6b5; font-size: .9rem; display: flex; gap: .75rem; align-items: center; }
.top .who button { background: transparent; color: #d7deea; border: 1px solid #3a4656; }
main { max-width: 1120px; margin: 0 auto; padding: 1.25rem; }
h1 { font-size: 1.5rem; margin: .25rem 0 1rem; }
h1::first-letter { text-transform: uppercase; }
h2 { font-size: 1.1rem; margin: 0 0 .75rem; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius);
  padding: 1rem 1.25rem; margin-bottom: 1.25rem; }
.narrow { max-width: 420px; margin: 3rem auto; }
label { display: block; font-weight: 600; font-size: .9rem; margin: .6rem 0 .25rem; }
label.inline { display: inline-flex; align-items: center; gap: .35rem; font-weight: 500; margin-right: 1rem; }
input, select, button { font: inherit; }
input[type=email], input[type=password], input[type=text], input[type=number], select {
  width: 100%; padding: .5rem .6rem; border: 1px solid #c4ccd6; border-radius: 7px; background: #fff; }
button, .button { display: inline-block; padding: .5rem .95rem; border-radius: 7px; border: 1px solid var(--accent);
  background: var(--accent); color: var(--accent-ink); cursor: pointer; text-decoration: none; font-weight: 600; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--danger); border-color: #e6b3b8; }
button:disabled { opacity: .55; cursor: default; }
.actions { display: flex; flex-wrap: wrap; gap: .6rem; align-items: center; margin-top: 1rem; }
.error { color: var(--danger); background: #fdeced; border: 1px solid #f3c1c6; border-radius: 7px; padding: .6rem .8rem; }
.note { color: var(--muted); font-size: .9rem; }
.ok { color: var(--ok); }
.drop { border: 2px dashed #b7c3d3; border-radius: var(--radius); padding: 1.25rem; text-align: center; background: #fbfcfe; }
.drop.over { border-color: var(--accent); background: #eef3ff; }
.drop input[type=file] { margin-top: .5rem; max-width: 100%; }
.uploads { list-style: none; padding: 0; margin: .75rem 0 0; }
.uploads li { display: grid; grid-template-columns: minmax(0, 1fr) 160px; gap: .25rem 1rem; padding: .35rem 0;
  border-bottom: 1px solid var(--line); font-size: .9rem; }
.uploads .msg { grid-column: 1 / -1; }
progress { width: 100%; height: .8rem; accent-color: var(--accent); }
.grid { list-style: none; padding: 0; margin: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: .9rem; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); overflow: hidden;
  display: flex; flex-direction: column; }
.card img { display: block; width: 100%; height: auto; aspect-ratio: 1; object-fit: cover; background: #e9edf2; }
.card .meta { padding: .45rem .6rem; font-size: .8rem; color: var(--muted); display: flex; align-items: center; gap: .4rem; }
.card .meta .name { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; color: var(--ink);
  margin: 0; font-weight: 500; font-size: .8rem; }
.card .meta button { padding: .15rem .45rem; font-size: .75rem; }
.toolbar { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; }
.toolbar > * { flex: 0 1 auto; }
.toolbar select { width: auto; }
.pager { display: flex; justify-content: space-between; margin-top: 1rem; }
.columns { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.25rem; }
@media (max-width: 760px) { .columns { grid-template-columns: 1fr; } .uploads li { grid-template-columns: 1fr; } }
.picture { width: 100%; max-height: 420px; object-fit: contain; background: #e9edf2; border-radius: 8px; display: block; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; font-size: .92rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.fields { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 0 .75rem; }
fieldset { border: 1px solid var(--line); border-radius: 8px; margin: .75rem 0 0; padding: .25rem .75rem .75rem; }
legend { font-weight: 600; font-size: .9rem; padding: 0 .3rem; }
.chart svg { width: 100%; height: auto; display: block; }
.swatches { display: flex; flex-wrap: wrap; gap: .4rem; margin-top: .75rem; }
.swatch { width: 64px; font-size: .7rem; text-align: center; color: var(--muted); }
.swatch svg { display: block; width: 64px; height: 40px; border-radius: 6px; border: 1px solid var(--line); }
table { width: 100%; border-collapse: collapse; font-size: .9rem; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; }
.status { display: inline-block; padding: .05rem .5rem; border-radius: 99px; background: #eef1f5; font-size: .8rem; }
.status.succeeded { background: #e3f5ea; color: var(--ok); }
.status.failed, .status.partially_failed { background: #fdeced; color: var(--danger); }
.status.running { background: #eef3ff; color: var(--accent); }
.bar { display: flex; align-items: center; gap: .75rem; }
.bar progress { height: 1.1rem; }
.bar span { white-space: nowrap; min-width: 3.5rem; text-align: right; }
.key { font-family: ui-monospace, monospace; background: #fff8db; border: 1px solid #f0dc8c; padding: .5rem; border-radius: 6px; overflow-wrap: anywhere; }
figure { margin: 0; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: .75rem; margin-top: .75rem; }
.pair img { width: 100%; border-radius: 8px; background: repeating-conic-gradient(#e4e8ee 0 25%, #fff 0 50%) 0 0 / 16px 16px; }
.empty { color: var(--muted); text-align: center; padding: 2rem 0; }
`;
