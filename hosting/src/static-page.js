// Pages without a script of their own (404, privacy): the shared header and footer, so every page is a click away.
import { renderHeader } from "./lib/layout.js";

renderHeader();
