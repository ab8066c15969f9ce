# sam build runs these targets (template.yaml: Metadata BuildMethod makefile), one per function, with
# ARTIFACTS_DIR set. PACKAGING=jvm (default) or native chooses the flavour; it must match the stack's
# Packaging parameter (infra/deploy.sh passes both). Every function ships the same function.zip, built once.
#   PACKAGING=native sam build --parameter-overrides Packaging=native
PACKAGING ?= jvm
ZIP := target/function.zip
SOURCES := pom.xml $(shell find src/main -type f)

ifeq ($(PACKAGING),native)
# no local GraalVM needed: Quarkus builds the image inside its Mandrel builder container
MAVEN_FLAGS := -Dnative -Dquarkus.native.container-build=true
else ifeq ($(PACKAGING),jvm)
MAVEN_FLAGS := -DskipITs
else
$(error PACKAGING must be jvm or native, not '$(PACKAGING)')
endif

.PHONY: build-SqsFunction build-HttpFunction build-KinesisFunction build-DynamodbFunction

build-SqsFunction build-HttpFunction build-KinesisFunction build-DynamodbFunction: target/function-$(PACKAGING).built
	infra/check-artifact.sh $(PACKAGING) $(ZIP)
	unzip -q -o $(ZIP) -d "$(ARTIFACTS_DIR)"

# the stamp names the flavour the zip holds: switching flavour rebuilds it
target/function-$(PACKAGING).built: $(SOURCES)
	./mvnw -B package -DskipTests $(MAVEN_FLAGS)
	rm -f target/function-*.built
	touch $@
