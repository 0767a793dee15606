"use strict";
// The reader's page. Views live in the URL: a search in the query string (/?q=...&mode=..., shareable),
// "more like this", digests and recommendations in the fragment (#similar=ID, #digest=ID, #recommend),
// so back and forward work. With neither, the page opens on the newest digest.
const $ = id => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text; // text only: paper content is never parsed as HTML
  return node;
}

// GET by default; init adds a method and a JSON body. Problem details become the error's message.
async function getJson(url, init = {}) {
  const response = await fetch(url, {
    method: init.method || "GET",
    headers: init.body === undefined ? { Accept: "application/json" } : { "Content-Type": "application/json", Accept: "application/json" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body && body.detail ? body.detail : `the server answered ${response.status}`);
  return body;
}

// ---- TeX, as abstracts carry it, shown readably (text only: the result is still set as text, never as HTML).
const texSymbols = {
  alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", zeta: "ζ", eta: "η", theta: "θ", vartheta: "ϑ",
  iota: "ι", kappa: "κ", lambda: "λ", mu: "μ", nu: "ν", xi: "ξ", pi: "π", rho: "ρ", sigma: "σ", tau: "τ", upsilon: "υ",
  phi: "φ", varphi: "φ", chi: "χ", psi: "ψ", omega: "ω", Gamma: "Γ", Delta: "Δ", Theta: "Θ", Lambda: "Λ", Xi: "Ξ", Pi: "Π",
  Sigma: "Σ", Phi: "Φ", Psi: "Ψ", Omega: "Ω", times: "×", cdot: "·", pm: "±", mp: "∓", leq: "≤", le: "≤", geq: "≥", ge: "≥",
  ll: "≪", gg: "≫", neq: "≠", ne: "≠", approx: "≈", sim: "∼", simeq: "≃", equiv: "≡", propto: "∝", infty: "∞", to: "→",
  rightarrow: "→", leftarrow: "←", Rightarrow: "⇒", leftrightarrow: "↔", partial: "∂", nabla: "∇", sum: "∑", prod: "∏",
  int: "∫", in: "∈", notin: "∉", subset: "⊂", subseteq: "⊆", cup: "∪", cap: "∩", forall: "∀", exists: "∃", ell: "ℓ",
  hbar: "ħ", circ: "∘", deg: "°", ldots: "…", dots: "…", cdots: "⋯", langle: "⟨", rangle: "⟩", lvert: "|", rvert: "|",
  AA: "Å", ss: "ß", o: "ø", O: "Ø", ae: "æ", l: "ł", i: "ı", textasciitilde: "~", textbackslash: "\\",
};
const superscripts = { 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹", "+": "⁺", "-": "⁻", "=": "⁼", "(": "⁽", ")": "⁾", n: "ⁿ", i: "ⁱ" };
const subscripts = { 0: "₀", 1: "₁", 2: "₂", 3: "₃", 4: "₄", 5: "₅", 6: "₆", 7: "₇", 8: "₈", 9: "₉", "+": "₊", "-": "₋", "=": "₌", "(": "₍", ")": "₎" };
const accents = { "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304", ".": "\u0307", c: "\u0327", v: "\u030C", u: "\u0306", H: "\u030B" };
// Font switches inside a group ({\em x}) and one-argument commands whose argument is the text (\textbf{x}).
const fontSwitch = /\{\\(?:em|it|bf|sc|rm|tt|sl|sf|itshape|bfseries|scshape|ttfamily|upshape)\b\s*([^{}]*)\}/g;
const textCommand = /\\(?:emph|textbf|textit|texttt|textsc|textrm|textsf|textup|textnormal|underline|mbox|hbox|url|mathrm|mathbf|mathit|mathsf|mathtt|mathcal|mathbb|mathfrak|boldsymbol|bm|text|operatorname)\s*\{([^{}]*)\}/g;

function scripted(text, map, mark) {
  const chars = [...text];
  return chars.every(c => map[c]) ? chars.map(c => map[c]).join("") : mark + (chars.length > 1 ? "(" + text + ")" : text);
}

function texMath(math) {
  let s = math;
  for (let i = 0; i < 3; i++) s = s.replace(textCommand, "$1").replace(/\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, "($1)/($2)");
  s = s.replace(/\\sqrt\s*\{([^{}]*)\}/g, (m, x) => "√" + (x.length > 1 ? "(" + x + ")" : x));
  s = s.replace(/\\(?:left|right|big|Big|bigg|Bigg)\b\s*/g, "").replace(/\\[,;:! ]/g, " ");
  s = s.replace(/\\([A-Za-z]+)\s*/g, (m, name) => texSymbols[name] ?? (/^(?:log|exp|sin|cos|tan|lim|max|min|arg|det|sup|inf)$/.test(name) ? name + " " : name));
  s = s.replace(/\^\s*\{([^{}]*)\}|\^\s*(\S)/g, (m, group, one) => scripted(group ?? one, superscripts, "^"));
  s = s.replace(/_\s*\{([^{}]*)\}|_\s*(\S)/g, (m, group, one) => scripted(group ?? one, subscripts, "_"));
  return s.replace(/[{}]/g, "").replace(/\s+/g, " ").trim();
}

function cleanTex(text) {
  if (!text || !/[\\${}~`]|''|--/.test(text)) return text;
  let s = text.replace(/\\\$/g, "\uE000"); // an escaped dollar is not a math delimiter
  s = s.replace(/\$\$([^$]+)\$\$|\$([^$]+)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]/g, (m, a, b, c, d) => texMath(a ?? b ?? c ?? d));
  for (let i = 0; i < 3; i++) s = s.replace(fontSwitch, "$1").replace(textCommand, "$1");
  s = s.replace(/\\([cvuH])\s*\{([A-Za-z])\}|\\(['`^"~=.])\s*\{?([A-Za-z])\}?/g, (m, a1, l1, a2, l2) => ((l1 ?? l2) + accents[a1 ?? a2]).normalize("NFC"));
  s = s.replace(/\\([%&_#{}])/g, "$1").replace(/\\\\/g, " ");
  s = s.replace(/\\(?:em|it|bf|sc|rm|tt|sl|sf|cite[tp]?\s*\{[^{}]*\}|ref\s*\{[^{}]*\}|label\s*\{[^{}]*\})\b\s*/g, "");
  s = s.replace(/\\([A-Za-z]+)\s?/g, (m, name) => texSymbols[name] ?? name);
  s = s.replace(/(\S)~(?=\S)/g, "$1\u00a0").replace(/``/g, "“").replace(/''/g, "”").replace(/---/g, "—").replace(/(\s|\d)--(?=\s|\d)/g, "$1–");
  return s.replace(/[{}]/g, "").replace(/\uE000/g, "$").replace(/[ \t]{2,}/g, " ");
}

// ---- Paper fields the API carries from the stored record (sourceId, authors, categories, url).
const arxivPattern = /^(?:arxiv:)?(\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[A-Za-z]{2})?\/\d{7}(?:v\d+)?)$/i;
function arxivId(paper) {
  const own = paper.sourceId && arxivPattern.exec(paper.sourceId.trim());
  if (own) return own[1];
  const linked = paper.url && /arxiv\.org\/(?:abs|pdf)\/(.+?)(?:\.pdf)?\/?$/i.exec(paper.url);
  return linked && arxivPattern.test(linked[1]) ? linked[1] : null;
}

function shortAuthors(authors) {
  const names = authors.split(/\s*[,;]\s*|\s+and\s+/).map(n => n.trim()).filter(Boolean);
  return names.length > 4 ? names.slice(0, 3).join(", ") + " et al." : names.join(", ");
}

// ---- The reader's library: its name is remembered in this browser; like and "not interested" change it (PATCH /libraries/NAME).
const library = { name: "", liked: new Set(), disliked: new Set() };

function libraryName() {
  const name = $("library").value.trim();
  return /^[A-Za-z0-9_-]{1,64}$/.test(name) ? name : "";
}

async function loadLibrary() {
  library.name = libraryName();
  library.liked = new Set();
  library.disliked = new Set();
  if (!library.name) { $("library-note").textContent = "name: letters, digits, - and _"; return; }
  localStorage.setItem("papervec.library", library.name);
  // A library that does not exist yet (404) is an empty one: the first like creates it.
  const response = await fetch("/libraries/" + encodeURIComponent(library.name), { headers: { Accept: "application/json" } });
  useLibrary(response.ok ? await response.json() : { liked: [], disliked: [] });
}

function useLibrary(body) {
  library.liked = new Set(body.liked);
  library.disliked = new Set(body.disliked);
  $("library-note").textContent = `${library.liked.size} liked, ${library.disliked.size} not interested`;
}

function requireLibrary() {
  if (!library.name) throw new Error("Name your library first (menu, under Your library).");
}

async function mark(id, how) {
  requireLibrary();
  const already = how === "like" ? library.liked.has(id) : library.disliked.has(id);
  useLibrary(await getJson("/libraries/" + encodeURIComponent(library.name),
    { method: "PATCH", body: already ? { remove: [id] } : { [how]: [id] } }));
}

function showStatus(message) {
  $("status").textContent = message;
}

function markButtons(id) {
  const star = el("button", "star", "☆ like");
  const no = el("button", "not-interested", "not interested");
  star.type = no.type = "button";
  const paint = () => {
    star.classList.toggle("on", library.liked.has(id));
    star.textContent = library.liked.has(id) ? "★ liked" : "☆ like";
    no.classList.toggle("on", library.disliked.has(id));
  };
  for (const [button, how] of [[star, "like"], [no, "dislike"]])
    button.addEventListener("click", async () => {
      try { await mark(id, how); paint(); showStatus(""); }
      catch (error) { showStatus(error.message); }
    });
  paint();
  const marks = el("span", "marks");
  marks.append(star, no);
  return marks;
}

// The snippet as text nodes, with the words the query matched in <mark> (never parsed as HTML).
function highlighted(p, text, words) {
  p.replaceChildren();
  if (!words.length) { p.textContent = text; return p; }
  const escaped = words.map(w => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp("(^|[^\\p{L}\\p{N}])(" + escaped.join("|") + ")(?=$|[^\\p{L}\\p{N}])", "giu");
  let at = 0;
  for (const m of text.matchAll(pattern)) {
    const start = m.index + m[1].length;
    p.append(document.createTextNode(text.slice(at, start)), el("mark", "", m[2]));
    at = start + m[2].length;
  }
  p.append(document.createTextNode(text.slice(at)));
  return p;
}

// "expand": the whole abstract, read once from GET /papers/ID; "collapse" goes back to the snippet.
function expander(paper, snippet, words) {
  const button = el("button", "expand", "expand");
  button.type = "button";
  let full = null, open = false;
  button.addEventListener("click", async () => {
    try {
      if (full === null) full = cleanTex((await getJson("/papers/" + encodeURIComponent(paper.id))).abstract);
      open = !open;
      highlighted(snippet, open ? full : cleanTex(paper.snippet), words);
      snippet.classList.toggle("full", open);
      button.textContent = open ? "collapse" : "expand";
    } catch (error) { showStatus(error.message); }
  });
  return button;
}

function paperItem(paper, extra) {
  const item = el("li", "result");
  item.dataset.id = paper.id;
  const arxiv = arxivId(paper);
  const title = el("div", "title");
  if (arxiv) {
    const link = el("a", "abs", cleanTex(paper.title));
    link.href = "https://arxiv.org/abs/" + arxiv;
    link.target = "_blank";
    link.rel = "noopener";
    title.append(link);
  } else title.textContent = cleanTex(paper.title);
  item.append(title);
  if (paper.authors) {
    const authors = el("div", "authors", shortAuthors(cleanTex(paper.authors)));
    authors.title = cleanTex(paper.authors);
    item.append(authors);
  }
  const meta = el("div", "meta");
  meta.append(el("span", "date", paper.date));
  for (const category of (paper.categories || "").split(/[\s,;]+/).filter(Boolean)) meta.append(el("span", "category", category));
  if (paper.score != null) {
    const score = el("span", "", "score ");
    score.append(el("span", "score", paper.score.toFixed(3)));
    meta.append(score);
  }
  if (arxiv) {
    const abs = el("a", "arxiv", "arXiv:" + arxiv);
    abs.href = "https://arxiv.org/abs/" + arxiv;
    const pdf = el("a", "pdf", "PDF");
    pdf.href = "https://arxiv.org/pdf/" + arxiv;
    for (const link of [abs, pdf]) { link.target = "_blank"; link.rel = "noopener"; }
    meta.append(abs, pdf);
  } else if (paper.url && /^https?:\/\//i.test(paper.url)) {
    const link = el("a", "url", "link");
    link.href = paper.url;
    link.target = "_blank";
    link.rel = "noopener";
    meta.append(link);
  }
  if (paper.judged) {
    meta.append(el("span", "judged", paper.judged === "liked" ? "in your library: liked" : "in your library: not interested"));
    item.classList.add("judged-" + paper.judged);
  }
  item.append(meta);
  const words = paper.matches || [];
  const snippet = highlighted(el("p", "snippet"), cleanTex(paper.snippet), words);
  item.append(snippet);
  if (paper.because && paper.because.length && !paper.judged)
    item.append(el("p", "because", "because you liked “" + paper.because.map(b => cleanTex(b.title)).join("” and “") + "”"
      + (paper.sharedTerms && paper.sharedTerms.length ? " · matches: " + paper.sharedTerms.join(", ") : "")));
  const actions = el("div", "actions");
  // The snippet is the abstract's first 240 characters, cut at a word and ended with "…" when there is more.
  if (paper.snippet.endsWith("…")) actions.append(expander(paper, snippet, words));
  const similar = el("a", "more", "more like this");
  similar.href = "#similar=" + encodeURIComponent(paper.id);
  actions.append(similar, markButtons(paper.id));
  item.append(actions);
  if (extra) extra(item, title, paper);
  return item;
}

// ---- Views. Only the latest navigation may draw: an earlier answer that arrives late is dropped.
let routeTicket = 0;
let paging = null; // the view's "more results": { ticket, k, step, load(k), shown: Set of ids, heading(n) }
let selected = -1; // the keyboard's selection among li.result

function clearView(message) {
  $("heading").textContent = "";
  $("results").replaceChildren();
  $("more-results").hidden = true;
  paging = null;
  selected = -1;
  showStatus(message);
}

function show(heading, papers, extra, emptyMessage) {
  selected = -1;
  if (!papers.length) { clearView(emptyMessage || "No papers found."); return; }
  $("heading").textContent = heading;
  showStatus("");
  $("results").replaceChildren(...papers.map(p => paperItem(p, extra)));
}

// A list that can grow: asked again for more (k + step), the papers not shown yet are appended. The API
// has no offset; asking for a larger k is what an offset would do server-side (the top-k is computed either way).
async function showPaged(ticket, k, step, load, heading, emptyMessage) {
  const results = await load(k);
  if (ticket !== routeTicket) return;
  show(heading(results.length), results, null, emptyMessage);
  paging = results.length ? { ticket, k, step, load, heading, shown: new Set(results.map(r => r.id)), done: results.length < k } : null;
  $("more-results").hidden = !paging || paging.done;
}

async function moreResults() {
  const page = paging;
  if (!page || page.done) return;
  const button = $("more-results");
  button.disabled = true;
  try {
    page.k = Math.min(page.k + page.step, 1000);
    const results = await page.load(page.k);
    if (page !== paging || page.ticket !== routeTicket) return;
    const fresh = results.filter(r => !page.shown.has(r.id));
    for (const r of fresh) page.shown.add(r.id);
    $("results").append(...fresh.map(p => paperItem(p)));
    $("heading").textContent = page.heading(page.shown.size);
    page.done = results.length < page.k || fresh.length === 0 || page.k >= 1000;
    button.hidden = page.done;
    if (page.done && fresh.length === 0) showStatus("No more results.");
  } catch (error) {
    showStatus(error.message);
  } finally {
    button.disabled = false;
  }
}

let digestList = null; // GET /digests, oldest first
let currentDigest = null;

function highlightDigest() {
  for (const link of document.querySelectorAll("#digests a.digest")) {
    const current = link.dataset.id === currentDigest;
    link.classList.toggle("current", current);
    if (current) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
}

function newestDigest(digests) {
  return [...digests].sort((a, b) => a.date.localeCompare(b.date) || a.ingestedAt.localeCompare(b.ingestedAt)).at(-1);
}

async function route() {
  const ticket = ++routeTicket;
  const current = () => ticket === routeTicket;
  const params = new URLSearchParams(location.search);
  const hash = decodeURIComponent(location.hash.slice(1));
  let [view, ...rest] = hash.split("=");
  let value = rest.join("=");
  if (!view && params.get("q")) { view = "q"; value = params.get("q"); }
  $("sidebar").classList.remove("open");
  $("menu").setAttribute("aria-expanded", "false");
  currentDigest = null;
  try {
    if (!view || (!value && view !== "recommend")) {
      // Nothing asked: today's papers, the newest digest.
      const digests = digestList || await listDigests();
      if (!current()) return;
      if (!digests.length) { clearView("No digests yet. Ingest today's with papervec ingest FILE (or POST /digests), or search above."); highlightDigest(); return; }
      view = "digest";
      value = newestDigest(digests).id;
      history.replaceState(null, "", "/#digest=" + value);
    }
    if (view === "q") {
      const mode = params.get("mode") || $("mode").value || "hybrid";
      $("q").value = value;
      $("mode").value = mode;
      $("heading").textContent = "Searching…";
      const url = k => "/search?k=" + k + "&mode=" + encodeURIComponent(mode) + "&q=" + encodeURIComponent(value);
      await showPaged(ticket, 10, 10, async k => (await getJson(url(k))).results,
        n => `Top ${n} for “${value}” (${mode})`, `No papers match “${value}”.`);
    } else if (view === "similar") {
      const paper = await getJson("/papers/" + encodeURIComponent(value));
      if (!current()) return;
      await showPaged(ticket, 10, 10, async k => (await getJson("/papers/" + encodeURIComponent(value) + "/similar?k=" + k)).results,
        () => `Papers like “${cleanTex(paper.title)}”`, "No similar papers.");
    } else if (view === "recommend") {
      requireLibrary();
      const name = library.name;
      await showPaged(ticket, 20, 20, async k => (await getJson("/recommend", { method: "POST", body: { library: name, k, diversity: 0.2 } })).results,
        () => `Recommended for library “${name}”`, `Nothing to recommend yet: like a few papers into “${name}”.`);
    } else if (view === "digest") {
      currentDigest = value;
      highlightDigest();
      const ordered = $("by-library").checked && library.name && library.liked.size > 0;
      const digest = await getJson("/digests/" + value.split("/").map(encodeURIComponent).join("/") + (ordered ? "?library=" + encodeURIComponent(library.name) : ""));
      if (!current()) return;
      show(`Digest ${digest.id}: ${digest.papers.length} papers, ${digest.seenBefore} seen before` + (digest.library ? `, ordered by library “${digest.library}”` : ""),
        digest.papers, (item, title, paper) => {
          if (!paper.seenBefore) return;
          item.classList.add("seen-before");
          title.append(el("span", "seen", "seen before in " + paper.seenIn.join(", ")));
        }, "This digest lists no papers.");
      paging = null;
      $("more-results").hidden = true;
    } else {
      clearView(`Nothing here: “${hash}” is not a view of this page.`);
    }
  } catch (error) {
    if (!current()) return;
    clearView(error.message);
  }
}

async function listDigests() {
  try {
    digestList = await getJson("/digests");
    $("digests").replaceChildren(...digestList.map(d => {
      const link = el("a", "digest");
      link.href = "#digest=" + d.id;
      link.dataset.id = d.id;
      link.title = d.id;
      link.append(el("span", "name", d.source), el("span", "when", `${d.date} · ${d.papers} papers`));
      return link;
    }));
    highlightDigest();
    return digestList;
  } catch (error) {
    $("digests").textContent = error.message;
    throw error;
  }
}

// ---- Keyboard: / search, j/k move, o open, e expand, l like, x not interested, s more like this.
function items() { return [...document.querySelectorAll("#results li.result")]; }

function select(index) {
  const all = items();
  if (!all.length) return null;
  selected = Math.max(0, Math.min(index, all.length - 1));
  all.forEach((item, i) => item.classList.toggle("selected", i === selected));
  all[selected].scrollIntoView({ block: "nearest" });
  return all[selected];
}

function selectedItem() {
  const all = items();
  return selected >= 0 && selected < all.length ? all[selected] : null;
}

document.addEventListener("keydown", event => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof Element && target.matches("input, select, textarea, [contenteditable]")) {
    if (event.key === "Escape") target.blur();
    return;
  }
  const item = selectedItem();
  switch (event.key) {
    case "/": $("q").focus(); $("q").select(); break;
    case "j": select(selected < 0 ? 0 : selected + 1); break;
    case "k": select(selected < 0 ? 0 : selected - 1); break;
    case "o": {
      if (!item) return;
      const abs = item.querySelector("a.abs");
      if (abs) window.open(abs.href, "_blank", "noopener");
      else item.querySelector("button.expand")?.click(); // no arXiv page: the whole abstract, here
      break;
    }
    case "e": item?.querySelector("button.expand")?.click(); break;
    case "l": item?.querySelector("button.star")?.click(); break;
    case "x": item?.querySelector("button.not-interested")?.click(); break;
    case "s": if (item) location.hash = "#similar=" + encodeURIComponent(item.dataset.id); break;
    default: return;
  }
  event.preventDefault();
});

$("search").addEventListener("submit", event => {
  event.preventDefault();
  const q = $("q").value.trim();
  if (!q) return;
  history.pushState(null, "", "/?q=" + encodeURIComponent(q) + "&mode=" + encodeURIComponent($("mode").value));
  route();
});
$("menu").addEventListener("click", () => {
  const open = $("sidebar").classList.toggle("open");
  $("menu").setAttribute("aria-expanded", String(open));
});
$("more-results").addEventListener("click", moreResults);
window.addEventListener("hashchange", route);
window.addEventListener("popstate", route);
$("library").value = localStorage.getItem("papervec.library") || "mine";
$("library").addEventListener("change", () => loadLibrary().then(route));
// Digests are ordered by the library unless the reader turned it off here.
$("by-library").checked = localStorage.getItem("papervec.byLibrary") !== "0";
$("by-library").addEventListener("change", () => { localStorage.setItem("papervec.byLibrary", $("by-library").checked ? "1" : "0"); route(); });
const listed = listDigests().catch(() => []);
loadLibrary().catch(() => {}).then(() => listed).then(route);
