#!/usr/bin/env Rscript
# A ResilienceGrpc client in R over HTTP/JSON (no gRPC needed): copy from here.
#
#   Rscript example.R REGRESSION_HTTP_URL STUDY_HTTP_URL
#
# The URLs are the HTTP/JSON ports of a regression service and a study server
# (resilience serve regression --http-port P; serve study --http-port Q).
# Needs Debian's r-cran-httr2 and r-cran-jsonlite. Prints one JSON line per step,
# so a test can compare the numbers.
suppressPackageStartupMessages({
  library(httr2)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
regression <- sub("/$", "", args[[1]])
study <- sub("/$", "", args[[2]])

# jsonlite prints at most 15 significant digits; num() gives a double all 17, so that it
# reads back to the same bits.
num <- function(x) structure(sprintf("%.17g", x), class = "json")
say <- function(x) cat(toJSON(x, auto_unbox = TRUE, json_verbatim = TRUE), "\n", sep = "")

fit_body <- function(covariance = "COVARIANCE_TYPE_HC1") {
  list(
    dependent = "y",
    regressors = list("a"),
    covarianceType = covariance,
    columns = list(
      list(name = "y", values = c(1, 3, 2, 5, 4, 6, 8, 7)),
      list(name = "a", values = c(1, 2, 3, 4, 5, 6, 7, 9))
    )
  )
}

post <- function(url, body) {
  request(url) |>
    req_body_json(body, digits = NA) |>
    req_error(is_error = function(resp) FALSE) |> # read refusals ourselves
    req_timeout(120) |>
    req_perform()
}

# 1. A fit: the coefficients come back as JSON.
resp <- post(paste0(regression, "/v1/regression:fit"), fit_body())
fit <- resp_body_json(resp)
say(list(step = "fit", estimate = num(fit$coefficients[[1]]$estimate),
         std_error = num(fit$coefficients[[1]]$stdError)))

# 2. A bad request: HTTP 400 with a google.rpc.Status whose BadRequest names the field.
resp <- post(paste0(regression, "/v1/regression:fit"), fit_body("COVARIANCE_TYPE_UNSPECIFIED"))
status <- resp_body_json(resp)
fields <- unlist(lapply(status$details, function(d) {
  if (identical(d[["@type"]], "type.googleapis.com/google.rpc.BadRequest"))
    vapply(d$fieldViolations, function(v) v$field, "")
}))
say(list(step = "bad", http = resp_status(resp), code = status$code, fields = as.list(fields)))

# 3. A whole study: one JSON object per line, the progress events, then the report.
resp <- post(paste0(study, "/v1/study:run"), list(
  dataset = "sample",
  spec = list(bootstrap = list(replications = 0), multiverse = list(disabled = TRUE))
))
lines <- strsplit(resp_body_string(resp), "\n", fixed = TRUE)[[1]]
events <- lapply(lines[nzchar(lines)], fromJSON, simplifyVector = FALSE)
report <- events[[length(events)]]$report
main <- Filter(function(t) length(t$models) > 0, report$tables)[[1]]
say(list(step = "study", progress = length(events) - 1, tables = length(report$tables),
         first_table = main$id, first_estimate = num(main$models[[1]]$fit$coefficients[[1]]$estimate)))
