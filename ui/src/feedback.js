// Errors said in a banner (never a blank page); a refused token opens the settings dialog.
import { ApiError } from "./api.js";

const banner = document.getElementById("banner");
let askForToken = () => {};
export function onAuthNeeded(fn) {
  askForToken = fn;
}

export function showError(err) {
  if (err instanceof ApiError && err.auth) {
    askForToken(err.message);
    return;
  }
  banner.hidden = false;
  banner.textContent = err.message || String(err);
}

export async function load(fn) {
  banner.hidden = true;
  try {
    return await fn();
  } catch (err) {
    showError(err);
    return null;
  }
}
