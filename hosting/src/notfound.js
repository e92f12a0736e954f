// The 404 page: the shared header, so the way back to every page is where it always is.
import { renderHeader } from "./lib/layout.js";

renderHeader();
