import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { locale } from './lib/i18n';
import { applyTheme, loadTheme } from './lib/theme';
import { LogFrontendError } from './lib/bridge';

// Errors nothing handled go to the app's log (diagnostics), as the webview shows no console.
window.addEventListener('error', (e) => LogFrontendError(`${e.message} at ${e.filename}:${e.lineno}`));
window.addEventListener('unhandledrejection', (e) => LogFrontendError(String((e.reason as Error)?.stack ?? e.reason)));

document.documentElement.lang = locale();
applyTheme(loadTheme());

const app = mount(App, { target: document.getElementById('app')! });

export default app;
