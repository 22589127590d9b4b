import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { locale } from './lib/i18n';
import { applyTheme, loadTheme } from './lib/theme';

document.documentElement.lang = locale();
applyTheme(loadTheme());

const app = mount(App, { target: document.getElementById('app')! });

export default app;
