// The system tests share two cores with everything else; one testbed at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
