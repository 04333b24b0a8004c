# Sourced by the demo and test scripts: settings that keep every AWS client on the local
# emulator. The keys are placeholders that the emulator accepts; they grant nothing anywhere.
export AWS_ACCESS_KEY_ID=emulator
export AWS_SECRET_ACCESS_KEY=emulator
export AWS_REGION=ap-south-1
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE
# The account the emulator acts as: the owner, distinct from every partner account.
export MOTO_ACCOUNT_ID=210987654321
