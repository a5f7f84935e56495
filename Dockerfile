# iamaudit as a container image for an ECS Fargate task (deploy/iamaudit-schedule.yaml,
# Engine=fargate), configured by IAMAUDIT_* environment variables (docs/scheduled.md).
# Build: docker build --build-arg VERSION=$(git describe --tags --always) -t iamaudit .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/iamaudit ./cmd/iamaudit

# A static binary needs no libc: distroless/static has only CA certificates, tzdata and
# a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/iamaudit /iamaudit
USER nonroot:nonroot
ENV IAMAUDIT_OUTPUT_DIR=/tmp/iamaudit IAMAUDIT_NO_PROGRESS=true
ENTRYPOINT ["/iamaudit"]
CMD ["run"]
