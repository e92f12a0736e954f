// The header every page shares (brand, navigation, who is signed in) and its footer (privacy, API docs).
import { $, h } from "./dom.js";
import { session } from "./session.js";

const LINKS = [
  { page: "upload", href: "./", label: "Upload" },
  { page: "camera", href: "camera.html", label: "Camera" },
  { page: "history", href: "history.html", label: "History" },
];

function accountArea(user) {
  if (!user) {
    if (document.body.dataset.page === "account") return null;
    const next = encodeURIComponent(location.pathname.split("/").pop() || "./");
    return h("a", { class: "button button--small", href: `account.html?next=${next}` }, "Sign in");
  }
  return h("div", { class: "account" },
    h("span", { class: "account__email", title: user.email }, user.email),
    h("button", { class: "button button--small button--ghost", type: "button", onclick: () => session.signOut() },
      "Sign out"));
}

export function renderHeader() {
  const page = document.body.dataset.page;
  const header = $("#site-header");
  const account = h("div", { class: "site-header__account" });
  header.replaceChildren(
    h("a", { class: "brand", href: "./", "aria-label": "Moodlens home" },
      h("span", { class: "brand__mark", "aria-hidden": "true" }), "Moodlens"),
    h("nav", { class: "site-nav", "aria-label": "Main" },
      LINKS.map((link) => h("a", { href: link.href, "aria-current": link.page === page ? "page" : null }, link.label))),
    account,
  );
  document.body.append(h("footer", { class: "site-footer" },
    h("a", { href: "privacy.html" }, "Privacy"), h("a", { href: "docs.html" }, "API for developers")));
  const update = (user) => account.replaceChildren(accountArea(user) ?? "");
  session.onChange(update);
  session.user().then(update, () => update(null));
}
