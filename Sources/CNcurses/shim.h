// Shim over ncursesw for Swift: turns on the wide-character API (SwiftPM drops pkg-config's -D
// flags), and wraps the globals and macros that do not import in Swift 6 language mode.
#ifndef KVSCOPE_CNCURSES_SHIM_H
#define KVSCOPE_CNCURSES_SHIM_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif

#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <wchar.h>

#include <ncursesw/curses.h>

// MARK: Globals (not concurrency-safe as C globals in Swift 6)

static inline WINDOW *kv_stdscr(void) { return stdscr; }
static inline WINDOW *kv_curscr(void) { return curscr; }
static inline int kv_lines(void) { return LINES; }
static inline int kv_cols(void) { return COLS; }
static inline int kv_colors(void) { return COLORS; }
static inline FILE *kv_stdout(void) { return stdout; }
static inline FILE *kv_stdin(void) { return stdin; }

// MARK: Macros that do not import

static inline attr_t kv_a_normal(void) { return A_NORMAL; }
static inline attr_t kv_a_bold(void) { return A_BOLD; }
static inline attr_t kv_a_dim(void) { return A_DIM; }
static inline attr_t kv_a_reverse(void) { return A_REVERSE; }
static inline attr_t kv_a_underline(void) { return A_UNDERLINE; }
static inline int kv_key_f(int n) { return KEY_F(n); }
static inline int kv_getmaxy(WINDOW *w) { return getmaxy(w); }
static inline int kv_getmaxx(WINDOW *w) { return getmaxx(w); }

// MARK: Locale

// glibc declares wcwidth only under _XOPEN_SOURCE, which the Swift Glibc module does not set.
extern int wcwidth(wchar_t c);
/// The number of columns `c` takes in the current locale (-1 when not printable).
static inline int kv_wcwidth(wchar_t c) { return wcwidth(c); }
/// The current locale's character set name, e.g. "UTF-8" or "ANSI_X3.4-1968".
static inline const char *kv_codeset(void) { return nl_langinfo(CODESET); }

// MARK: Signals
//
// The handlers live here, in C, so that nothing of the Swift runtime runs inside a signal handler.
// SIGINT/SIGTERM/SIGHUP/SIGQUIT restore the terminal and _exit(128 + signal). Crash signals restore
// the terminal, put back the previous action (the Swift runtime's backtracer or the default), and
// let the signal be delivered again so the crash reports as usual. endwin() is not strictly
// async-signal-safe, but it is what htop-like tools do. SIGTSTP/SIGCONT and SIGWINCH are left to
// ncurses, which installs its own handlers for them when they are at their defaults.

// Function-local statics: Swift's importer does not emit file-scope static variables of a header.
// Each Swift object file that calls these gets its own copy, so call install and restore from the
// same Swift source file.
static inline struct sigaction *kv_saved_actions(void) {
  static struct sigaction actions[NSIG];
  return actions;
}
static inline volatile sig_atomic_t *kv_saved_valid(void) {
  static volatile sig_atomic_t valid[NSIG];
  return valid;
}

static inline void kv_exit_signal_handler(int sig) {
  endwin();
  _exit(128 + sig);
}

static inline void kv_crash_signal_handler(int sig) {
  endwin();
  if (sig > 0 && sig < NSIG && kv_saved_valid()[sig]) {
    sigaction(sig, &kv_saved_actions()[sig], NULL);
  } else {
    signal(sig, SIG_DFL);
  }
  // Blocked while this handler runs; delivered to the restored action when it returns. A fault
  // (SIGSEGV, SIGILL, ...) also recurs when the faulting instruction runs again.
  raise(sig);
}

static inline void kv_catch(int sig, void (*handler)(int)) {
  struct sigaction action;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_ONSTACK;
  action.sa_handler = handler;
  if (kv_saved_valid()[sig]) {
    sigaction(sig, &action, NULL);  // already saved the original; keep it
  } else if (sigaction(sig, &action, &kv_saved_actions()[sig]) == 0) {
    kv_saved_valid()[sig] = 1;
  }
}

/// Installs the terminal-restoring handlers. Call before newterm(), so ncurses sees non-default
/// SIGINT/SIGTERM actions and does not install its own (which would exit with status 1).
static inline void kv_install_signal_handlers(void) {
  // A parent may have left these blocked (a test runner's threads, a shell script): the view needs
  // them to quit, suspend and follow resizes.
  sigset_t wanted;
  sigemptyset(&wanted);
  const int interactive[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGTSTP, SIGCONT};
  for (unsigned i = 0; i < sizeof interactive / sizeof interactive[0]; i++) sigaddset(&wanted, interactive[i]);
  sigprocmask(SIG_UNBLOCK, &wanted, NULL);
  kv_catch(SIGINT, kv_exit_signal_handler);
  kv_catch(SIGTERM, kv_exit_signal_handler);
  kv_catch(SIGHUP, kv_exit_signal_handler);
  kv_catch(SIGQUIT, kv_exit_signal_handler);
  kv_catch(SIGSEGV, kv_crash_signal_handler);
  kv_catch(SIGBUS, kv_crash_signal_handler);
  kv_catch(SIGILL, kv_crash_signal_handler);
  kv_catch(SIGFPE, kv_crash_signal_handler);
  kv_catch(SIGABRT, kv_crash_signal_handler);
  kv_catch(SIGTRAP, kv_crash_signal_handler);
}

/// Puts back the actions that kv_install_signal_handlers replaced.
static inline void kv_restore_signal_handlers(void) {
  const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    int sig = sigs[i];
    if (kv_saved_valid()[sig]) {
      kv_saved_valid()[sig] = 0;
      sigaction(sig, &kv_saved_actions()[sig], NULL);
    }
  }
}

#endif
