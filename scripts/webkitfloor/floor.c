/*
 * floor.c is the smallest WebKitGTK window: one view showing one static
 * sentence, with the desktop app's WebKit settings (hardware acceleration
 * policy NEVER; the measuring script sets JSC_useJIT=false as the app does).
 * scripts/desktop-memory.sh --floor measures its process tree the same way
 * as the app's, which tells what any app built on this system's WebKitGTK
 * costs before it does anything.
 *
 * It prints "page shown" once the page has loaded.
 */
#include <gtk/gtk.h>
#include <webkit2/webkit2.h>

static gboolean shown(gpointer data) {
	g_print("page shown\n");
	return G_SOURCE_REMOVE;
}

static void load_changed(WebKitWebView *view, WebKitLoadEvent event, gpointer data) {
	if (event == WEBKIT_LOAD_FINISHED)
		g_timeout_add(500, shown, NULL);
}

int main(int argc, char **argv) {
	gtk_init(&argc, &argv);
	GtkWidget *window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_default_size(GTK_WINDOW(window), 1280, 820);
	WebKitWebView *view = WEBKIT_WEB_VIEW(webkit_web_view_new());
	webkit_settings_set_hardware_acceleration_policy(webkit_web_view_get_settings(view),
		WEBKIT_HARDWARE_ACCELERATION_POLICY_NEVER);
	gtk_container_add(GTK_CONTAINER(window), GTK_WIDGET(view));
	g_signal_connect(view, "load-changed", G_CALLBACK(load_changed), NULL);
	g_signal_connect(window, "destroy", G_CALLBACK(gtk_main_quit), NULL);
	webkit_web_view_load_html(view, "<!doctype html><p>Hello</p>", NULL);
	gtk_widget_show_all(window);
	gtk_main();
	return 0;
}
