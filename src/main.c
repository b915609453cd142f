/*
 * The `billow` command: serve | worker | migrate | admin | check-config.
 * `serve` runs in the parent: it checks the configuration, renders the Kore
 * configuration and supervises `kore` and the `billow worker` children.
 * Nothing here runs inside Kore's sandbox.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "auth/crypto.h"
#include "core/config.h"
#include "core/core.h"
#include "db/db.h"
#include "db/migrate.h"
#include "plugin/plugin.h"
#include "worker/worker.h"

#define DEFAULT_CONFIG	"conf/billow.conf"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: billow serve [-c FILE] [--kore PATH]\n"
	    "       billow worker [-c FILE]\n"
	    "       billow migrate [-c FILE]\n"
	    "       billow admin create --email EMAIL [-c FILE]\n"
	    "       billow check-config [FILE]\n");
	exit(2);
}

/* Loads FILE, applies the environment, validates; exits on error. */
static struct bw_config *
load_config(const char *file)
{
	struct bw_config	*cfg;
	char			 err[512];

	cfg = bw_calloc(1, sizeof(*cfg));
	if (bw_config_load(cfg, file, err, sizeof(err)) != BW_OK ||
	    bw_config_env(cfg, err, sizeof(err)) != BW_OK ||
	    bw_config_validate(cfg, err, sizeof(err)) != BW_OK) {
		fprintf(stderr, "billow: %s\n", err);
		exit(1);
	}
	return cfg;
}

static const char *
opt_config(int argc, char **argv)
{
	int	i;

	for (i = 0; i < argc - 1; i++)
		if (strcmp(argv[i], "-c") == 0)
			return argv[i + 1];
	if (getenv("BILLOW_CONFIG") != NULL)
		return getenv("BILLOW_CONFIG");
	return DEFAULT_CONFIG;
}

static const char *
opt_value(int argc, char **argv, const char *name)
{
	int	i;

	for (i = 0; i < argc - 1; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static int
cmd_check_config(int argc, char **argv)
{
	struct bw_config	cfg;
	const char		*file;
	char			 err[512];

	file = argc > 0 && argv[0][0] != '-' ? argv[0] : opt_config(argc, argv);
	if (bw_config_load(&cfg, file, err, sizeof(err)) != BW_OK ||
	    bw_config_env(&cfg, err, sizeof(err)) != BW_OK ||
	    bw_config_validate(&cfg, err, sizeof(err)) != BW_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* Plugins are opened, checked and initialised, then closed again. */
	if (bw_plugins_load(&cfg, err, sizeof(err)) != BW_OK) {
		fprintf(stderr, "%s: %s\n", file, err);
		bw_config_free(&cfg);
		return 1;
	}
	printf("%s: ok (%d plugin%s)\n", file, bw_plugins_loaded(),
	    bw_plugins_loaded() == 1 ? "" : "s");
	bw_plugins_unload();
	bw_config_free(&cfg);
	return 0;
}

static int
cmd_migrate(int argc, char **argv)
{
	struct bw_config	*cfg;
	int			 rc;

	cfg = load_config(opt_config(argc, argv));
	rc = bw_migrate_run(cfg);
	bw_config_free(cfg);
	free(cfg);
	return rc == BW_OK ? 0 : 1;
}

/* Reads a password from BILLOW_ADMIN_PASSWORD, else the terminal or stdin. */
static char *
read_password(void)
{
	struct termios	 old, quiet;
	char		 line[512];
	const char	*env;
	int		 tty;
	size_t		 n;

	if ((env = getenv("BILLOW_ADMIN_PASSWORD")) != NULL)
		return bw_strdup(env);
	tty = isatty(STDIN_FILENO);
	if (tty) {
		fputs("Password: ", stderr);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (fgets(line, sizeof(line), stdin) == NULL)
		line[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	return bw_strdup(line);
}

static int
cmd_admin(int argc, char **argv)
{
	struct bw_config	*cfg;
	const char		*email;
	char			*password;
	int			 rc;

	if (argc < 1 || strcmp(argv[0], "create") != 0)
		usage();
	if ((email = opt_value(argc, argv, "--email")) == NULL)
		usage();
	cfg = load_config(opt_config(argc, argv));
	password = read_password();
	rc = bw_migrate_admin_upsert(cfg, email, password);
	explicit_bzero(password, strlen(password));
	free(password);
	bw_config_free(cfg);
	free(cfg);
	if (rc == BW_OK)
		printf("platform admin %s is ready\n", email);
	return rc == BW_OK ? 0 : 1;
}

static int
cmd_worker(int argc, char **argv)
{
	struct bw_config	*cfg;
	int			 rc;

	cfg = load_config(opt_config(argc, argv));
	rc = bw_worker_main(cfg);
	bw_config_free(cfg);
	free(cfg);
	return rc == BW_OK ? 0 : 1;
}

/* ---- serve: the supervisor ---------------------------------------- */

#define MAX_CHILDREN	65

struct child {
	pid_t	 pid;
	int	 kind;		/* 0 = kore, 1 = billow worker */
	time_t	 started;
};

static volatile sig_atomic_t	got_term, got_hup, got_chld;
static struct child		children[MAX_CHILDREN];
static int			nchildren;

static void
on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

static int
render_kore_conf(const struct bw_config *cfg, const char *self_dir,
    char *path, size_t len)
{
	FILE	*fp;
	long	 cores;
	int	 workers;

	if (mkdir(cfg->var_dir, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "billow: mkdir %s: %s\n", cfg->var_dir,
		    strerror(errno));
		return BW_ERROR;
	}
	/* One file per port, so two servers sharing var/ never cross. */
	snprintf(path, len, "%s/kore-%d.conf", cfg->var_dir, cfg->port);
	if ((fp = fopen(path, "w")) == NULL) {
		fprintf(stderr, "billow: %s: %s\n", path, strerror(errno));
		return BW_ERROR;
	}
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	workers = cfg->workers > 0 ? cfg->workers : (int)(cores > 0 ? cores : 1);
	fprintf(fp,
	    "# Rendered by `billow serve` from %s; edits are overwritten.\n"
	    "server api {\n\tbind %s %d\n\ttls no\n}\n"
	    "load %s/billow.so billow_onload\n"
	    "workers %d\n"
	    "task_threads %d\n"
	    "worker_max_connections 1024\n"
	    "http_body_max %zu\n"
	    "http_header_max 4096\n"
	    "http_header_timeout 10\n"
	    "http_body_timeout 10\n"
	    "http_keepalive_time 10\n"
	    "http_request_limit 1000\n"
	    "http_server_version billow\n"
	    "http_hsts_enable 0\n"
	    "pidfile %s/kore-%d.pid\n"
	    "domain * {\n\tattach api\n\troute ^/ billow_http\n}\n",
	    cfg->path, cfg->bind_addr, cfg->port, self_dir, workers,
	    cfg->task_threads, cfg->body_max, cfg->var_dir, cfg->port);
	if (fclose(fp) != 0)
		return BW_ERROR;
	return BW_OK;
}

static pid_t
spawn(int kind, char **argv)
{
	pid_t	pid;

	if ((pid = fork()) == -1) {
		fprintf(stderr, "billow: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		signal(SIGHUP, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "billow: exec %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	(void)kind;
	return pid;
}

/* SIGTERM to every child, then SIGKILL to any still there after 5 s. */
static void
stop_children(void)
{
	int	i, status, left, tries;

	for (i = 0; i < nchildren; i++)
		if (children[i].pid > 0)
			kill(children[i].pid, SIGTERM);
	for (tries = 0; tries < 100; tries++) {
		left = 0;
		for (i = 0; i < nchildren; i++) {
			if (children[i].pid <= 0)
				continue;
			if (waitpid(children[i].pid, &status, WNOHANG) ==
			    children[i].pid)
				children[i].pid = 0;
			else
				left++;
		}
		if (left == 0)
			return;
		usleep(50000);
	}
	for (i = 0; i < nchildren; i++) {
		if (children[i].pid > 0) {
			kill(children[i].pid, SIGKILL);
			waitpid(children[i].pid, &status, 0);
		}
	}
}

static int
cmd_serve(int argc, char **argv)
{
	struct bw_config	*cfg;
	struct sigaction	 sa;
	const char		*file, *kore;
	char			 self[PATH_MAX], dir[PATH_MAX], conf[PATH_MAX];
	char			 abs_conf[PATH_MAX];
	char			*kore_argv[8], *worker_argv[5];
	ssize_t			 n;
	int			 i, status, rc = 0;
	pid_t			 pid;

	file = opt_config(argc, argv);
	cfg = load_config(file);
	kore = opt_value(argc, argv, "--kore");
	if (kore == NULL)
		kore = getenv("BILLOW_KORE") ? getenv("BILLOW_KORE") : "kore";

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0) {
		perror("billow: readlink");
		return 1;
	}
	self[n] = '\0';
	snprintf(dir, sizeof(dir), "%s", self);
	*strrchr(dir, '/') = '\0';
	/* A plugin that can't load stops start-up here, clearly. */
	{
		char	perr[512];

		if (bw_plugins_load(cfg, perr, sizeof(perr)) != BW_OK) {
			fprintf(stderr, "billow: %s\n", perr);
			return 1;
		}
		bw_plugins_unload();
	}
	if (render_kore_conf(cfg, dir, conf, sizeof(conf)) != BW_OK)
		return 1;
	/* DESIGN.md "Setup": create or update this admin at start. */
	if (getenv("BILLOW_ADMIN_EMAIL") != NULL &&
	    getenv("BILLOW_ADMIN_PASSWORD") != NULL &&
	    bw_migrate_admin_upsert(cfg, getenv("BILLOW_ADMIN_EMAIL"),
	    getenv("BILLOW_ADMIN_PASSWORD")) != BW_OK)
		return 1;
	if (realpath(file, abs_conf) == NULL)
		snprintf(abs_conf, sizeof(abs_conf), "%s", file);
	/* The module reads the same file (and environment) in Kore. */
	setenv("BILLOW_CONFIG", abs_conf, 1);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);

	kore_argv[0] = (char *)kore;
	kore_argv[1] = "-f";
	kore_argv[2] = "-n";
	kore_argv[3] = "-r";
	kore_argv[4] = "-c";
	kore_argv[5] = conf;
	kore_argv[6] = NULL;
	worker_argv[0] = self;
	worker_argv[1] = "worker";
	worker_argv[2] = "-c";
	worker_argv[3] = abs_conf;
	worker_argv[4] = NULL;

	children[nchildren].kind = 0;
	children[nchildren].pid = spawn(0, kore_argv);
	children[nchildren++].started = time(NULL);
	for (i = 0; i < cfg->background && nchildren < MAX_CHILDREN; i++) {
		children[nchildren].kind = 1;
		children[nchildren].pid = spawn(1, worker_argv);
		children[nchildren++].started = time(NULL);
	}
	bw_log(BW_LOG_INFO, "serving on http://%s:%d (%d background "
	    "worker%s)", cfg->bind_addr, cfg->port, cfg->background,
	    cfg->background == 1 ? "" : "s");

	while (!got_term) {
		pause();
		if (got_hup) {
			got_hup = 0;
			for (i = 0; i < nchildren; i++)
				if (children[i].pid > 0)
					kill(children[i].pid, SIGHUP);
		}
		if (!got_chld)
			continue;
		got_chld = 0;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < nchildren; i++) {
				if (children[i].pid != pid)
					continue;
				if (got_term)
					break;
				bw_log(BW_LOG_WARN, "%s (pid %d) exited "
				    "(status %d); restarting",
				    children[i].kind == 0 ? "kore" : "worker",
				    (int)pid, status);
				/*
				 * A child that keeps dying at start (a busy
				 * port, a bad module) is restarted at most
				 * once a second instead of in a tight loop.
				 */
				if (time(NULL) - children[i].started < 1)
					sleep(1);
				children[i].pid = spawn(children[i].kind,
				    children[i].kind == 0 ? kore_argv :
				    worker_argv);
				children[i].started = time(NULL);
			}
		}
	}
	stop_children();
	bw_config_free(cfg);
	free(cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strcmp(argv[1], "worker") == 0)
		return cmd_worker(argc - 2, argv + 2);
	if (strcmp(argv[1], "migrate") == 0)
		return cmd_migrate(argc - 2, argv + 2);
	if (strcmp(argv[1], "admin") == 0)
		return cmd_admin(argc - 2, argv + 2);
	if (strcmp(argv[1], "check-config") == 0)
		return cmd_check_config(argc - 2, argv + 2);
	usage();
	return 2;
}
