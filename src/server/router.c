/*
 * The route table: method + pattern ({name} matches one path segment),
 * trailing slash optional, 405 with Allow when only the method is wrong.
 * Filled at module load in each Kore worker; read-only afterwards, so the
 * event loop and task threads read it without locks.
 */
#include <string.h>

#include "server/server.h"

#define MAX_ROUTES	BW_METRIC_ROUTES

static const struct bw_route	*routes[MAX_ROUTES];
static size_t			 nroutes;

void
bw_router_add(const struct bw_route *r, size_t n)
{
	size_t	i;

	for (i = 0; i < n && nroutes < MAX_ROUTES; i++)
		routes[nroutes++] = &r[i];
}

void
bw_router_clear(void)
{
	nroutes = 0;
}

int
bw_router_count(void)
{
	return (int)nroutes;
}

int
bw_router_index(const struct bw_route *r)
{
	size_t	i;

	for (i = 0; i < nroutes; i++)
		if (routes[i] == r)
			return (int)i;
	return -1;
}

const char *
bw_router_pattern(int idx)
{
	if (idx < 0 || (size_t)idx >= nroutes)
		return "unmatched";
	return routes[idx]->pattern;
}

/*
 * Compares PATH[0..plen) with PATTERN segment by segment. Captures go to
 * CAPS as (offset, length) pairs. Returns 1 on a match.
 */
static int
route_match(const char *pattern, const char *path, size_t plen,
    size_t caps[][2], size_t *ncaps)
{
	const char	*p = pattern;
	size_t		 i = 0, seg;
	const char	*close;

	*ncaps = 0;
	while (*p != '\0' && i < plen) {
		if (*p == '{') {
			if ((close = strchr(p, '}')) == NULL)
				return 0;
			seg = i;
			while (i < plen && path[i] != '/')
				i++;
			if (i == seg || *ncaps >= BW_MAX_PARAMS)
				return 0;
			caps[*ncaps][0] = seg;
			caps[*ncaps][1] = i - seg;
			(*ncaps)++;
			p = close + 1;
			continue;
		}
		if (*p != path[i])
			return 0;
		p++;
		i++;
	}
	return *p == '\0' && i == plen;
}

int
bw_router_match(struct bw_req *req, int *allow)
{
	size_t	 plen, i, j, ncaps, caps[BW_MAX_PARAMS][2];
	int	 path_matched = 0;

	*allow = 0;
	plen = strlen(req->path);
	if (plen > 1 && req->path[plen - 1] == '/')
		plen--;
	for (i = 0; i < nroutes; i++) {
		if (!route_match(routes[i]->pattern, req->path, plen, caps,
		    &ncaps))
			continue;
		path_matched = 1;
		*allow |= routes[i]->method;
		if (routes[i]->method != req->method &&
		    !(req->method == BW_HEAD && routes[i]->method == BW_GET))
			continue;
		req->route = routes[i];
		req->nparams = ncaps;
		for (j = 0; j < ncaps; j++)
			req->params[j] = bw_arena_strndup(&req->arena,
			    req->path + caps[j][0], caps[j][1]);
		return BW_MATCH_OK;
	}
	return path_matched ? BW_MATCH_METHOD : BW_MATCH_NOT_FOUND;
}
